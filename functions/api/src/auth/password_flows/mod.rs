//! Email and password accounts and their second factor, as HTTP endpoints: sign-up and email
//! verification, password sign-in with per-account throttling, the TOTP step, password reset by
//! emailed link, re-authentication and password change, TOTP enrolment and recovery codes. The
//! building blocks (hashing, password rules, TOTP, mail, throttles) are in the sibling modules.

mod attempts;
mod links;
mod mfa;
mod reauth;
mod reset;
mod sign_in;
mod signup;
mod totp_settings;
mod verify;

use axum::{
    Json,
    response::{IntoResponse as _, Response},
    routing::{delete, post},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::{AccountTx, Error};
use http::{HeaderMap, Method, header::USER_AGENT};

use super::{
    cookies,
    keys::SigningKeys,
    permission::Permission,
    session::{self, Proof, Tokens},
    signin::Outcome,
};
use crate::routes::Route;

use attempts::Refusal;

/// The routes of this module: sign-up, verification, sign-in, MFA, reset, re-authentication under
/// `/api/v2/auth/`; password and two-factor settings under `/api/v2/user/`.
pub fn routes() -> Vec<Route> {
    use Permission::{Public, SignedIn};
    vec![
        Route::new(
            Method::POST,
            "/api/v2/auth/signup",
            Public,
            post(signup::sign_up),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/verify-email",
            Public,
            post(verify::verify_email),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/verify-email/resend",
            SignedIn,
            post(verify::resend),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/password",
            Public,
            post(sign_in::sign_in),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/mfa",
            Public,
            post(mfa::second_factor),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/password-reset",
            Public,
            post(reset::request),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/password-reset/confirm",
            Public,
            post(reset::confirm),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/reauthenticate",
            SignedIn,
            post(reauth::reauthenticate),
        ),
        Route::new(
            Method::POST,
            "/api/v2/user/password",
            SignedIn,
            post(reauth::change_password),
        ),
        Route::new(
            Method::POST,
            "/api/v2/user/mfa/totp",
            SignedIn,
            post(totp_settings::enrol),
        ),
        Route::new(
            Method::POST,
            "/api/v2/user/mfa/totp/confirm",
            SignedIn,
            post(totp_settings::confirm),
        ),
        Route::new(
            Method::DELETE,
            "/api/v2/user/mfa/totp",
            SignedIn,
            delete(totp_settings::disable),
        ),
        Route::new(
            Method::POST,
            "/api/v2/user/mfa/recovery-codes",
            SignedIn,
            post(totp_settings::regenerate_recovery_codes),
        ),
    ]
}

/// A change to how the account of `tx` signs in (`password.changed`, `password.reset`,
/// `mfa.enabled`, `mfa.disabled`, `mfa.recovery_codes_regenerated`): logged, and recorded in the
/// audit log of each organization of the person, inside `tx`. Never with a secret.
async fn security_event(tx: &mut AccountTx, action: &str) -> Result<(), Error> {
    tracing::info!(account.id = %tx.account_id(), event = action, "sign-in settings changed");
    crate::audit::record_for_account(tx, action, serde_json::json!({})).await
}

/// The `User-Agent` of a request, recorded on the sessions it starts.
fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
}

/// A sign-in's answer: tokens (the refresh token in a cookie for browsers, in the JSON for other
/// clients: `cookies::deliver`), or `mfa_required` with the MFA token also in its short cookie.
fn respond(jar: CookieJar, headers: &HeaderMap, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Tokens(tokens) => tokens_response(jar, headers, tokens),
        Outcome::MfaRequired { ref mfa_token, .. } => {
            let jar = cookies::with_mfa(jar, mfa_token);
            (jar, Json(outcome)).into_response()
        }
    }
}

/// New tokens, delivered as `cookies::deliver` says, and any MFA cookie dropped.
fn tokens_response(jar: CookieJar, headers: &HeaderMap, mut tokens: Tokens) -> Response {
    let jar = cookies::deliver(cookies::without_mfa(jar), headers, false, &mut tokens);
    (jar, Json(tokens)).into_response()
}

/// Revokes every session of the account (R5, J7) and starts the caller's new one with `proof`:
/// after a password change or an MFA change, only the person who made it stays signed in.
async fn replace_sessions(
    tx: &mut AccountTx,
    keys: &SigningKeys,
    proof: &Proof,
    user_agent: Option<&str>,
) -> Result<Tokens, Error> {
    session::revoke_all(tx).await?;
    session::start(tx, keys, proof, user_agent).await
}

/// `methods` added to the ways the caller already proved who they are in this session (a
/// re-authentication keeps the second factor the session was signed in with).
fn proof_with(previous: &[String], methods: &[&str]) -> Proof {
    let mut proof = Proof::now(methods);
    for method in previous {
        if !proof.amr.contains(method) {
            proof.amr.push(method.clone());
        }
    }
    proof
}
