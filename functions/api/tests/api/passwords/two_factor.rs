//! The MFA step (T3, T6), TOTP enrolment and removal, re-authentication (P7).

use super::*;

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
async fn a_browser_gives_the_mfa_token_in_its_cookie_and_gets_the_refresh_cookie(admin: PgPool) {
    let app = TestApp::new(admin);
    let email = "lea@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    let (secret, _, _) = enable_mfa(&app, &app.sign_in(account).await.access_token).await;

    let reply = sign_in(&app, email, PASSWORD).await;
    let set_cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("__Host-mfa="), "{set_cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let code = code_at(&secret, Utc::now().timestamp() + 30);
    // A browser: it sends Sec-Fetch-Mode, so the refresh token comes only as a cookie.
    let request = http::Request::post("/api/v2/auth/mfa")
        .header("content-type", "application/json")
        .header("sec-fetch-mode", "cors")
        .header("cookie", cookie)
        .body(axum::body::Body::from(json!({ "code": code }).to_string()))
        .unwrap();
    let signed_in = app.send(request).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{signed_in:?}");
    assert!(signed_in.json["access_token"].is_string());
    assert!(
        signed_in.json.get("refresh_token").is_none(),
        "a page's scripts must not see the refresh token: {signed_in:?}"
    );
    let cookies: Vec<&str> = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-refresh=dash_rt_")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-mfa=;")),
        "{cookies:?}"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn turning_on_two_factor_is_mailed_to_the_account(admin: PgPool) {
    let (app, mail) = app_with_mail(admin).await;
    let email = "ivy@example.test";
    let account = account_with_password(&app, email, PASSWORD).await;
    let access = app.sign_in(account).await.access_token;
    enable_mfa(&app, &access).await;
    let notice = mail.next_message().await.unwrap();
    assert_eq!(notice.to, [email]);
    assert!(
        notice.subject.contains("Two-factor sign-in was turned on"),
        "{}",
        notice.subject
    );
    assert!(
        notice.text.contains("reset your password"),
        "{}",
        notice.text
    );
}
