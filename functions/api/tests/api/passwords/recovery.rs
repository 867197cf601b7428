//! Password reset by emailed link and password change (R5, P7).

use super::*;

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
    // A personal API token minted before the reset (by whoever held the account).
    app.create_org(&old.access_token, "acme").await;
    let minted = app
        .call(
            Method::POST,
            "/api/v2/orgs/acme/tokens",
            Some(&old.access_token),
            Some(json!({ "name": "left behind" })),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{minted:?}");
    let api_token = text(&minted.json["token"]).to_owned();
    sqlx::query("update app.accounts set failed_sign_ins = 100, last_failed_at = now() - interval '1 day' where id = $1")
        .bind(account)
        .execute(&app.admin)
        .await
        .unwrap();
    // Locked: even the right password is refused, exactly as an unknown address is (P5).
    let locked = sign_in(&app, email, PASSWORD).await;
    let nobody = sign_in(&app, "nobody@example.test", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED, "{locked:?}");
    assert_eq!(locked.json, nobody.json);

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
    let with_api_token = app
        .call(Method::GET, "/api/v2/orgs/acme", Some(&api_token), None)
        .await;
    assert_eq!(
        with_api_token.status,
        StatusCode::UNAUTHORIZED,
        "API tokens minted before the reset are revoked"
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
