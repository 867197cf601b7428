//! Sign-up and verification through a real SMTP server, generic answers (P5), the throttles (P6),
//! the password rules (P4).

use super::*;

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
    // Even the right password is refused meanwhile, exactly as a wrong one or an unknown address:
    // the throttle must not tell which addresses have accounts.
    let refused = sign_in(&app, "dan@example.test", PASSWORD).await;
    let unknown = sign_in(&app, "nobody@example.test", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{refused:?}");
    assert_eq!(refused.json, unknown.json);
    assert!(refused.headers.get("retry-after").is_none());
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
