//! The last step of every sign-in: tokens or an MFA step, and the audit trail it leaves.

use dashboard_api::auth::{
    keys::TokenType,
    session::amr,
    signin::{self, MfaClaims, Outcome},
};
use dashboard_shared::Error;
use sqlx::PgPool;

use crate::support::TestApp;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_sign_in_is_recorded_in_every_organization_of_the_person(admin: PgPool) {
    let app = TestApp::new(admin);
    let (alice, token) = app.person("alice@example.test").await;
    app.create_org(&token, "acme").await;
    app.create_org(&token, "beta").await;

    let mut tx = app.state.db.account(alice).await.unwrap();
    let outcome = signin::complete(&mut tx, &app.state.config.keys, amr::PASSWORD, None)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Tokens(_)));
    let tenant_after: String =
        sqlx::query_scalar("select coalesce(current_setting('app.tenant_id', true), '')")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(
        tenant_after, "",
        "the account transaction ends with no tenant"
    );
    tx.commit().await.unwrap();

    let recorded: Vec<String> = sqlx::query_scalar(
        "select t.slug from app.audit_log a join app.tenants t on t.id = a.tenant_id
         where a.action = 'signin.succeeded' and a.actor_account_id = $1 order by t.slug",
    )
    .bind(alice)
    .fetch_all(&app.admin)
    .await
    .unwrap();
    assert_eq!(recorded, ["acme", "beta"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_account_with_mfa_gets_a_single_use_mfa_token_instead_of_tokens(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    sqlx::query("update app.accounts set mfa_enabled = true where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    let keys = &app.state.config.keys;

    let mut tx = app.state.db.account(account).await.unwrap();
    let Outcome::MfaRequired {
        mfa_token,
        expires_in,
        ..
    } = signin::complete(&mut tx, keys, amr::PASSWORD, None)
        .await
        .unwrap()
    else {
        panic!("tokens without a second factor");
    };
    tx.commit().await.unwrap();
    assert_eq!(expires_in, 300);
    // It is not an access token.
    assert!(
        keys.verify::<serde_json::Value>(TokenType::Access, &mfa_token)
            .is_none()
    );
    let claims: MfaClaims = keys.verify(TokenType::MfaPending, &mfa_token).unwrap();

    let mut tx = app.state.db.account(account).await.unwrap();
    let first = signin::consume_mfa_challenge(&mut tx, &claims)
        .await
        .unwrap();
    assert_eq!(first, ["pwd"]);
    let tokens = signin::finish_mfa(&mut tx, keys, &first, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let access: dashboard_api::auth::session::AccessClaims = keys
        .verify(TokenType::Access, &tokens.access_token)
        .unwrap();
    assert!(access.has_second_factor());

    let mut again = app.state.db.account(account).await.unwrap();
    let replay = signin::consume_mfa_challenge(&mut again, &claims).await;
    assert!(matches!(replay, Err(Error::Unauthorized)), "used twice");
}
