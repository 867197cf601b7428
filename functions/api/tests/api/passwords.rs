//! Email and password accounts and their second factor, through the HTTP endpoints: sign-up and
//! verification through a real SMTP server (aiosmtpd), generic answers (P5), throttling (P6),
//! password rules (P4), the MFA step (T3, T6), password reset (R5), re-authentication (P7).

use chrono::{Duration, Utc};
use dashboard_api::{
    ApiConfig,
    auth::{
        keys::TokenType,
        mail::Mailer,
        session::AccessClaims,
        throttle::{AddressLimiter, ClientAddress},
        totp,
    },
    testing::{ReceivedMail, SmtpSink},
};
use dashboard_shared::config::Env;
use http::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{PUBLIC_URL, Reply, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// The api with its mail going to a real SMTP server.
async fn app_with_mail(admin: PgPool) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let mut config = ApiConfig::generated(PUBLIC_URL);
    let env = Env::from_pairs(&[("SMTP_URL", sink.url())]);
    config.mailer = Mailer::from_env(&env, std::path::Path::new("unused")).unwrap();
    (TestApp::with_config(admin, config), sink)
}

/// A verified account whose password is `password`.
async fn account_with_password(app: &TestApp, email: &str, password: &str) -> Uuid {
    let account = app.create_account(email).await;
    let hash = app
        .state
        .config
        .passwords
        .hash(&SecretString::from(password.to_owned()))
        .await
        .unwrap();
    sqlx::query("update app.accounts set password_hash = $2 where id = $1")
        .bind(account)
        .bind(hash)
        .execute(&app.admin)
        .await
        .unwrap();
    account
}

async fn post(app: &TestApp, path: &str, bearer: Option<&str>, body: Value) -> Reply {
    app.call(Method::POST, path, bearer, Some(body)).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    let body = json!({ "email": email, "password": password });
    post(app, "/api/v2/auth/password", None, body).await
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap()
}

/// The `token` parameter of the link in `mail`, after checking the page it opens.
fn link_token(mail: &ReceivedMail, page: &str) -> String {
    let link = mail.link().expect("the mail has a link");
    let prefix = format!("{PUBLIC_URL}{page}?token=");
    assert!(link.starts_with(&prefix), "{link}");
    link[prefix.len()..].to_owned()
}

async fn failed_sign_ins(app: &TestApp, account: Uuid) -> i32 {
    sqlx::query_scalar("select failed_sign_ins from app.accounts where id = $1")
        .bind(account)
        .fetch_one(&app.admin)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn signing_up_mails_a_link_that_verifies_the_address_and_the_password_then_signs_in(
    admin: PgPool,
) {
    let (app, mail) = app_with_mail(admin).await;
    let body = json!({ "email": "ann@example.test", "password": PASSWORD, "display_name": "Ann" });
    let reply = post(&app, "/api/v2/auth/signup", None, body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");

    let received = mail.next_message().await.unwrap();
    assert_eq!(received.to, ["ann@example.test"]);
    let token = link_token(&received, "/verify-email");
    let verified_at = "select email_verified_at is not null from app.accounts where email = $1";
    let verified = || async {
        sqlx::query_scalar::<_, bool>(verified_at)
            .bind("ann@example.test")
            .fetch_one(&app.admin)
            .await
            .unwrap()
    };
    assert!(!verified().await);

    let verify = post(
        &app,
        "/api/v2/auth/verify-email",
        None,
        json!({ "token": token }),
    )
    .await;
    assert_eq!(verify.status, StatusCode::NO_CONTENT, "{verify:?}");
    assert!(verified().await);
    let again = post(
        &app,
        "/api/v2/auth/verify-email",
        None,
        json!({ "token": token }),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a link works once");

    let signed_in = sign_in(&app, "Ann@Example.test", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{signed_in:?}");
    assert_eq!(signed_in.json["token_type"], "Bearer");
    assert!(signed_in.json["refresh_token"].is_string());
    let access = text(&signed_in.json["access_token"]);
    let user = app
        .call(Method::GET, "/api/v2/user", Some(access), None)
        .await;
    assert_eq!(user.json["email_verified"], true, "{user:?}");
    assert_eq!(user.json["display_name"], "Ann");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn signing_up_with_an_address_that_has_an_account_answers_the_same_and_changes_nothing(
    admin: PgPool,
) {
    let (app, mail) = app_with_mail(admin).await;
    let first = json!({ "email": "bob@example.test", "password": PASSWORD });
    let new = post(&app, "/api/v2/auth/signup", None, first).await;
    let _verification = mail.next_message().await.unwrap();

    let other_password = "another long passphrase, different";
    let second = json!({ "email": "BOB@example.test", "password": other_password });
    let existing = post(&app, "/api/v2/auth/signup", None, second).await;
    assert_eq!((existing.status, &existing.json), (new.status, &new.json));

    let notice = mail.next_message().await.unwrap();
    assert_eq!(notice.to, ["BOB@example.test"]);
    assert!(notice.subject.contains("tried to sign up"), "{notice:?}");
    assert!(
        !notice.text.contains("token="),
        "no link that changes anything"
    );
    let accounts: i64 = sqlx::query_scalar("select count(*) from app.accounts")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(accounts, 1);
    assert_eq!(
        sign_in(&app, "bob@example.test", PASSWORD).await.status,
        StatusCode::OK
    );
    let with_other = sign_in(&app, "bob@example.test", other_password).await;
    assert_eq!(with_other.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_unknown_address_and_a_wrong_password_get_the_same_answer(admin: PgPool) {
    let app = TestApp::new(admin);
    account_with_password(&app, "cat@example.test", PASSWORD).await;
    app.create_account("nopassword@example.test").await;
    let disabled = account_with_password(&app, "gone@example.test", PASSWORD).await;
    sqlx::query("update app.accounts set disabled_at = now() where id = $1")
        .bind(disabled)
        .execute(&app.admin)
        .await
        .unwrap();

    let wrong_password = sign_in(&app, "cat@example.test", "not the password at all").await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    for (email, password) in [
        ("nobody@example.test", PASSWORD),
        ("nopassword@example.test", PASSWORD),
        ("gone@example.test", PASSWORD),
        ("not an address", PASSWORD),
    ] {
        let reply = sign_in(&app, email, password).await;
        assert_eq!(reply.status, wrong_password.status, "{email}");
        assert_eq!(reply.json, wrong_password.json, "{email}");
        let content_type = &reply.headers["content-type"];
        assert_eq!(content_type, &wrong_password.headers["content-type"]);
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn repeated_failures_are_throttled_before_the_password_is_checked_and_success_resets(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let account = account_with_password(&app, "dan@example.test", PASSWORD).await;
    for attempt in 1..=5 {
        let reply = sign_in(&app, "dan@example.test", "a wrong guess, again").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(failed_sign_ins(&app, account).await, 5);

    // Nine more failures, the last one just now: the backoff runs (512 s).
    sqlx::query(
        "update app.accounts set failed_sign_ins = 14, last_failed_at = now() where id = $1",
    )
    .bind(account)
    .execute(&app.admin)
    .await
    .unwrap();
    let refused = sign_in(&app, "dan@example.test", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=512).contains(&retry_after), "{retry_after}");
    assert_eq!(
        failed_sign_ins(&app, account).await,
        14,
        "a refused attempt is not checked"
    );

    sqlx::query("update app.accounts set last_failed_at = now() - interval '1 day' where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    assert_eq!(
        sign_in(&app, "dan@example.test", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        failed_sign_ins(&app, account).await,
        0,
        "success resets the count"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_short_common_or_email_like_password_is_refused_with_a_clear_422(admin: PgPool) {
    let app = TestApp::new(admin);
    for (password, says) in [
        ("short one", "at least 15 characters"),
        ("yfdbufnjh10305070", "too common"),
        ("erin.the.great.2026", "email address"),
    ] {
        let body = json!({ "email": "erin.the.great@example.test", "password": password });
        let reply = post(&app, "/api/v2/auth/signup", None, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert!(text(&reply.json["detail"]).contains(says), "{reply:?}");
    }
    let body = json!({ "email": "not-an-address", "password": PASSWORD });
    let reply = post(&app, "/api/v2/auth/signup", None, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accounts: i64 = sqlx::query_scalar("select count(*) from app.accounts")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(accounts, 0);
}

/// The TOTP code of `secret` at `unix` seconds.
fn code_at(secret: &[u8], unix: i64) -> String {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(0)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .unwrap()
        .generate(u64::try_from(unix).unwrap())
        .to_string()
}

/// Turns MFA on through the API for the holder of `access`: the secret, the recovery codes and
/// the caller's new access token.
async fn enable_mfa(app: &TestApp, access: &str) -> (Vec<u8>, Vec<String>, String) {
    let enrolment = post(app, "/api/v2/user/mfa/totp", Some(access), json!({})).await;
    assert_eq!(enrolment.status, StatusCode::OK, "{enrolment:?}");
    let secret_text = text(&enrolment.json["secret"]);
    let uri = text(&enrolment.json["otpauth_uri"]);
    assert!(uri.starts_with("otpauth://totp/Dashboard:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret_text}")), "{uri}");
    assert!(text(&enrolment.json["qr_svg"]).contains("<svg"));
    let secret = totp::decode_secret(secret_text).unwrap();

    let wrong = json!({ "code": "000000" });
    let refused = post(app, "/api/v2/user/mfa/totp/confirm", Some(access), wrong).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    let code = json!({ "code": code_at(&secret, Utc::now().timestamp()) });
    let confirmed = post(app, "/api/v2/user/mfa/totp/confirm", Some(access), code).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{confirmed:?}");
    let codes: Vec<String> =
        serde_json::from_value(confirmed.json["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (
        secret,
        codes,
        text(&confirmed.json["access_token"]).to_owned(),
    )
}

async fn mfa_step(app: &TestApp, mfa_token: &str, factor: (&str, &str)) -> Reply {
    let body = json!({ "mfa_token": mfa_token, factor.0: factor.1 });
    post(app, "/api/v2/auth/mfa", None, body).await
}

/// A password sign-in of an account with MFA: its MFA token.
async fn mfa_token(app: &TestApp, email: &str) -> String {
    let reply = sign_in(app, email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["mfa_required"], true, "{reply:?}");
    assert!(reply.json.get("access_token").is_none());
    text(&reply.json["mfa_token"]).to_owned()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn with_mfa_a_sign_in_needs_a_code_each_step_once_and_each_recovery_code_once(admin: PgPool) {
    let app = TestApp::new(admin);
    let email = "fay@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    let first_access = token_issued_ago(&app, account, 1, 1);
    let (secret, recovery, access) = enable_mfa(&app, &first_access).await;
    let api = &app;
    let user = |token: String| async move {
        api.call(Method::GET, "/api/v2/user", Some(&token), None)
            .await
            .status
    };
    assert_eq!(
        user(first_access).await,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(user(access).await, StatusCode::OK);

    // The confirmation used this step: the next one's code (one step of skew) signs in.
    let next = code_at(&secret, Utc::now().timestamp() + 30);
    let token = mfa_token(&app, email).await;
    let signed_in = mfa_step(&app, &token, ("code", &next)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{signed_in:?}");
    assert_eq!(signed_in.json["token_type"], "Bearer");
    let used_token = mfa_step(&app, &token, ("recovery_code", &recovery[1])).await;
    assert_eq!(
        used_token.status,
        StatusCode::UNAUTHORIZED,
        "an MFA token works once"
    );

    let token = mfa_token(&app, email).await;
    let replay = mfa_step(&app, &token, ("code", &next)).await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "a step is accepted once"
    );
    let with_recovery = mfa_step(&app, &token, ("recovery_code", &recovery[0])).await;
    assert_eq!(
        with_recovery.status,
        StatusCode::OK,
        "a wrong code leaves the token usable"
    );

    let token = mfa_token(&app, email).await;
    let again = mfa_step(&app, &token, ("recovery_code", &recovery[0])).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a recovery code works once"
    );
    sqlx::query("update app.mfa_challenges set expires_at = now() - interval '1 second' where account_id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    let expired = mfa_step(&app, &token, ("recovery_code", &recovery[2])).await;
    assert_eq!(
        expired.status,
        StatusCode::UNAUTHORIZED,
        "an expired MFA token is refused"
    );

    let one_step = json!({ "email": email, "password": PASSWORD, "totp": "123456" });
    let wrong = post(&app, "/api/v2/auth/password", None, one_step).await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "a wrong code given with the password"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_reset_link_works_once_unlocks_the_account_and_signs_out_every_session(admin: PgPool) {
    let (app, mail) = app_with_mail(admin).await;
    let email = "gus@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    sqlx::query("update app.accounts set email_verified_at = null where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    let old = app.sign_in(account).await;
    let old_access = token_issued_ago(&app, account, 1, 1);
    sqlx::query("update app.accounts set failed_sign_ins = 100, last_failed_at = now() - interval '1 day' where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    let locked = sign_in(&app, email, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{locked:?}");
    assert!(text(&locked.json["detail"]).contains("reset"));

    let unknown = post(
        &app,
        "/api/v2/auth/password-reset",
        None,
        json!({ "email": "nobody@example.test" }),
    )
    .await;
    let known = post(
        &app,
        "/api/v2/auth/password-reset",
        None,
        json!({ "email": email }),
    )
    .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!((unknown.status, &unknown.json), (known.status, &known.json));
    // Mails arrive in order: the first is the known address's, so the unknown one got none.
    let received = mail.next_message().await.unwrap();
    assert_eq!(received.to, [email]);
    let token = link_token(&received, "/reset-password");

    let new_password = "a brand new passphrase, unguessable";
    let confirm = |password: &str| {
        post(
            &app,
            "/api/v2/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": password }),
        )
    };
    let weak = confirm("short").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak:?}");
    assert_eq!(
        confirm(new_password).await.status,
        StatusCode::NO_CONTENT,
        "the link survived the refusal"
    );
    assert_eq!(
        confirm(new_password).await.status,
        StatusCode::BAD_REQUEST,
        "a link works once"
    );

    let refresh = json!({ "refresh_token": old.refresh_token });
    let refreshed = post(&app, "/api/v2/auth/refresh", None, refresh).await;
    assert_eq!(
        refreshed.status,
        StatusCode::UNAUTHORIZED,
        "sessions are revoked"
    );
    let user = app
        .call(Method::GET, "/api/v2/user", Some(&old_access), None)
        .await;
    assert_eq!(
        user.status,
        StatusCode::UNAUTHORIZED,
        "access tokens are cut off"
    );

    assert_eq!(
        sign_in(&app, email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let signed_in = sign_in(&app, email, new_password).await;
    assert_eq!(signed_in.status, StatusCode::OK, "the lock is cleared");
    let access = text(&signed_in.json["access_token"]);
    let user = app
        .call(Method::GET, "/api/v2/user", Some(access), None)
        .await;
    assert_eq!(
        user.json["email_verified"], true,
        "the link proved the address"
    );
}

/// An access token of `account` issued `issued` minutes ago, its holder having signed in with a
/// password `proven` minutes ago. (Issued before the second it is used in, a cut-off made now (J7)
/// applies to it.)
fn token_issued_ago(app: &TestApp, account: Uuid, issued: i64, proven: i64) -> String {
    let now = Utc::now();
    let (issued, proven) = (
        now - Duration::minutes(issued),
        now - Duration::minutes(proven),
    );
    let issued = issued.timestamp();
    let claims = AccessClaims {
        iss: PUBLIC_URL.into(),
        aud: "dashboard-api".into(),
        sub: account,
        exp: issued + 3600,
        nbf: issued,
        iat: issued,
        jti: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        auth_time: proven.timestamp(),
        amr: vec!["pwd".into()],
    };
    app.state
        .config
        .keys
        .sign(TokenType::Access, &claims)
        .unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn turning_off_mfa_needs_a_recent_proof_and_no_organization_requiring_it(admin: PgPool) {
    let app = TestApp::new(admin);
    let email = "hal@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    let _ = enable_mfa(&app, &app.sign_in(account).await.access_token).await;
    let (_, owner) = app.person("owner@example.test").await;
    app.create_org(&owner, "strict").await;
    app.add_member("strict", account, "member").await;
    sqlx::query("update app.tenants set require_mfa = true where slug = 'strict'")
        .execute(&app.admin)
        .await
        .unwrap();

    let stale = token_issued_ago(&app, account, 0, 11);
    let api = &app;
    let disable = |token: String| async move {
        api.call(Method::DELETE, "/api/v2/user/mfa/totp", Some(&token), None)
            .await
    };
    assert_eq!(disable(stale.clone()).await.status, StatusCode::FORBIDDEN);
    let codes = post(
        &app,
        "/api/v2/user/mfa/recovery-codes",
        Some(&stale),
        json!({}),
    )
    .await;
    assert_eq!(
        codes.status,
        StatusCode::FORBIDDEN,
        "new recovery codes need a recent proof too"
    );

    let wrong = json!({ "password": "not the password at all" });
    let refused = post(&app, "/api/v2/auth/reauthenticate", Some(&stale), wrong).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let reauth = json!({ "password": PASSWORD });
    let fresh = post(&app, "/api/v2/auth/reauthenticate", Some(&stale), reauth).await;
    assert_eq!(fresh.status, StatusCode::OK, "{fresh:?}");
    let fresh = text(&fresh.json["access_token"]).to_owned();
    let user = app
        .call(Method::GET, "/api/v2/user", Some(&stale), None)
        .await;
    assert_eq!(
        user.status,
        StatusCode::OK,
        "reauthentication does not sign out"
    );

    let codes = post(
        &app,
        "/api/v2/user/mfa/recovery-codes",
        Some(&fresh),
        json!({}),
    )
    .await;
    assert_eq!(codes.status, StatusCode::OK);
    assert_eq!(codes.json["recovery_codes"].as_array().unwrap().len(), 10);

    let blocked = disable(fresh.clone()).await;
    assert_eq!(blocked.status, StatusCode::CONFLICT, "{blocked:?}");
    assert!(text(&blocked.json["detail"]).contains("strict"));
    sqlx::query("update app.tenants set require_mfa = false where slug = 'strict'")
        .execute(&app.admin)
        .await
        .unwrap();
    let disabled = disable(fresh).await;
    assert_eq!(disabled.status, StatusCode::OK, "{disabled:?}");
    let (enabled, codes): (bool, i64) = sqlx::query_as(
        "select mfa_enabled, (select count(*) from app.recovery_codes where account_id = $1)
         from app.accounts where id = $1",
    )
    .bind(account)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!((enabled, codes), (false, 0));
    let mut recorded: Vec<String> = sqlx::query_scalar(
        "select a.action from app.audit_log a join app.tenants t on t.id = a.tenant_id
         where t.slug = 'strict' and a.actor_account_id = $1 and a.action not like 'signin.s%'",
    )
    .bind(account)
    .fetch_all(&app.admin)
    .await
    .unwrap();
    recorded.sort();
    let expected = [
        "mfa.disabled",
        "mfa.recovery_codes_regenerated",
        "signin.failed",
    ];
    assert_eq!(
        recorded, expected,
        "security events reach the organization's audit log"
    );
    assert!(sign_in(&app, email, PASSWORD).await.json["access_token"].is_string());
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn changing_the_password_needs_the_current_one_or_a_recent_proof_and_ends_other_sessions(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let email = "ida@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    let other = app.sign_in(account).await;
    let stale = token_issued_ago(&app, account, 0, 11);
    let new_password = "an entirely different passphrase";
    let api = &app;
    let change = |body: Value| {
        let stale = stale.clone();
        async move { post(api, "/api/v2/user/password", Some(&stale), body).await }
    };

    let without = change(json!({ "new_password": new_password })).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{without:?}");
    let wrong =
        change(json!({ "current_password": "not it at all", "new_password": new_password })).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let weak = change(json!({ "current_password": PASSWORD, "new_password": "short" })).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed =
        change(json!({ "current_password": PASSWORD, "new_password": new_password })).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");

    let mine = text(&changed.json["access_token"]);
    assert_eq!(
        app.call(Method::GET, "/api/v2/user", Some(mine), None)
            .await
            .status,
        StatusCode::OK
    );
    let theirs = post(
        &app,
        "/api/v2/auth/refresh",
        None,
        json!({ "refresh_token": other.refresh_token }),
    )
    .await;
    assert_eq!(
        theirs.status,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        sign_in(&app, email, new_password).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_new_verification_link_is_sent_only_while_the_address_is_unverified(admin: PgPool) {
    let (app, mail) = app_with_mail(admin).await;
    let (account, access) = app.person("jo@example.test").await;
    let resend = || {
        post(
            &app,
            "/api/v2/auth/verify-email/resend",
            Some(&access),
            json!({}),
        )
    };
    assert_eq!(resend().await.status, StatusCode::CONFLICT);
    sqlx::query("update app.accounts set email_verified_at = null where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    assert_eq!(resend().await.status, StatusCode::ACCEPTED);
    let token = link_token(&mail.next_message().await.unwrap(), "/verify-email");
    let verify = post(
        &app,
        "/api/v2/auth/verify-email",
        None,
        json!({ "token": token }),
    )
    .await;
    assert_eq!(verify.status, StatusCode::NO_CONTENT);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_auth_routes_are_limited_per_client_address(admin: PgPool) {
    let mut config = ApiConfig::generated(PUBLIC_URL);
    // Two requests a minute: a burst of two, then one each 30 s.
    let two = std::num::NonZeroU32::new(2).unwrap();
    config.limiter = AddressLimiter::new(two, ClientAddress::Connection);
    let app = TestApp::with_config(admin, config);
    let bogus = json!({ "token": "dash_el_nothing" });
    for _ in 0..2 {
        let reply = post(&app, "/api/v2/auth/verify-email", None, bogus.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let limited = post(&app, "/api/v2/auth/signup", None, json!({})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{limited:?}");
    assert!(limited.headers.contains_key("retry-after"));
    let (_, access) = app.person("kim@example.test").await;
    let elsewhere = app
        .call(Method::GET, "/api/v2/user", Some(&access), None)
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK, "only the auth routes");
}
