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

mod accounts;
mod recovery;
mod two_factor;

/// The password of the accounts the tests make.
pub const PASSWORD: &str = "correct horse battery staple";

/// The api with its mail going to a real SMTP server.
pub async fn app_with_mail(admin: PgPool) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let mut config = ApiConfig::generated(PUBLIC_URL);
    let env = Env::from_pairs(&[("SMTP_URL", sink.url())]);
    config.mailer = Mailer::from_env(&env, std::path::Path::new("unused")).unwrap();
    (TestApp::with_config(admin, config), sink)
}

/// A verified account whose password is `password`.
pub async fn account_with_password(app: &TestApp, email: &str, password: &str) -> Uuid {
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

/// `POST path` with a JSON body.
pub async fn post(app: &TestApp, path: &str, bearer: Option<&str>, body: Value) -> Reply {
    app.call(Method::POST, path, bearer, Some(body)).await
}

/// A password sign-in.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    let body = json!({ "email": email, "password": password });
    post(app, "/api/v2/auth/password", None, body).await
}

/// A JSON string's text.
pub fn text(value: &Value) -> &str {
    value.as_str().unwrap()
}

/// The `token` parameter of the link in `mail`, after checking the page it opens.
pub fn link_token(mail: &ReceivedMail, page: &str) -> String {
    let link = mail.link().expect("the mail has a link");
    let prefix = format!("{PUBLIC_URL}{page}?token=");
    assert!(link.starts_with(&prefix), "{link}");
    link[prefix.len()..].to_owned()
}

/// The account's count of consecutive failures.
pub async fn failed_sign_ins(app: &TestApp, account: Uuid) -> i32 {
    sqlx::query_scalar("select failed_sign_ins from app.accounts where id = $1")
        .bind(account)
        .fetch_one(&app.admin)
        .await
        .unwrap()
}

/// The TOTP code of `secret` at `unix` seconds.
pub fn code_at(secret: &[u8], unix: i64) -> String {
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
pub async fn enable_mfa(app: &TestApp, access: &str) -> (Vec<u8>, Vec<String>, String) {
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

/// The MFA step with `factor` (`("code", …)` or `("recovery_code", …)`).
pub async fn mfa_step(app: &TestApp, mfa_token: &str, factor: (&str, &str)) -> Reply {
    let body = json!({ "mfa_token": mfa_token, factor.0: factor.1 });
    post(app, "/api/v2/auth/mfa", None, body).await
}

/// A password sign-in of an account with MFA: its MFA token.
pub async fn mfa_token(app: &TestApp, email: &str) -> String {
    let reply = sign_in(app, email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["mfa_required"], true, "{reply:?}");
    assert!(reply.json.get("access_token").is_none());
    text(&reply.json["mfa_token"]).to_owned()
}

/// An access token of `account` issued `issued` minutes ago, its holder having signed in with a
/// password `proven` minutes ago. (Issued before the second it is used in, a cut-off made now (J7)
/// applies to it.)
pub fn token_issued_ago(app: &TestApp, account: Uuid, issued: i64, proven: i64) -> String {
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
