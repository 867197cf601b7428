//! Two-factor settings of the signed-in person (T1–T6). Enrolment seals a new secret into
//! `accounts.mfa_secret_encrypted` (AES-GCM, bound to the account) while `mfa_enabled` stays false,
//! and answers the `otpauth://` URI, the base32 secret and its QR code; confirming with a code turns
//! MFA on, answers 10 recovery codes (shown once, stored hashed) and signs out every other session.
//! Turning it off needs a recent proof (P7) and is refused while an organization of the person
//! requires MFA; it also signs out every other session. New recovery codes need a recent proof.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse as _, Response},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use dashboard_shared::{AccountTx, Error};
use http::HeaderMap;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{replace_sessions, security_event, tokens_response, user_agent};
use crate::{
    AppState,
    api::Problem,
    auth::{
        context::Account,
        cookies,
        session::{Tokens, amr},
        totp,
    },
};

/// The issuer name authenticator apps show next to the account.
const ISSUER: &str = "Dashboard";

/// The context a TOTP secret is sealed for: its account.
fn secret_context(account: Uuid) -> String {
    format!("totp-secret:{account}")
}

/// The account's TOTP secret, unsealed.
pub fn open_secret(state: &AppState, account: Uuid, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
    let text = state
        .config
        .secrets
        .open(sealed, &secret_context(account))
        .map_err(|_| anyhow::anyhow!("a TOTP secret does not open with the configured key"))?;
    totp::decode_secret(text.expose_secret())
        .ok_or_else(|| anyhow::anyhow!("a sealed TOTP secret is not base32"))
}

/// What enrolment answers.
#[derive(Serialize, ToSchema)]
pub struct Enrolment {
    /// For authenticator apps (also inside the QR code).
    otpauth_uri: String,
    /// The secret in base32, to type in by hand.
    secret: String,
    /// The QR code of `otpauth_uri`, an SVG document.
    qr_svg: String,
}

/// Starts turning on two-factor sign-in: a new authenticator secret, to confirm with a code.
/// Enrolling again before confirming replaces the pending secret.
#[utoipa::path(
    post,
    path = "/api/v2/user/mfa/totp",
    tag = "user",
    responses(
        (status = 200, description = "The secret, for an authenticator app", body = Enrolment),
        (status = 403, description = "No recent proof: `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor sign-in is already on", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn enrol(
    State(state): State<AppState>,
    mut account: Account,
) -> Result<Json<Enrolment>, Error> {
    // A stolen access token must not be able to tie the account to the thief's authenticator.
    account.require_recent_auth()?;
    let id = account.tx.account_id();
    let (email, enabled): (String, bool) =
        sqlx::query_as("select email, mfa_enabled from accounts where id = $1")
            .bind(id)
            .fetch_one(&mut *account.tx)
            .await?;
    if enabled {
        return Err(Error::Conflict(
            "two-factor sign-in is already on: turn it off first to use another authenticator"
                .into(),
        ));
    }
    let secret = totp::generate_secret()?;
    let encoded = totp::encode_secret(&secret);
    let sealed = state
        .config
        .secrets
        .seal(encoded.as_bytes(), &secret_context(id));
    sqlx::query(
        "update accounts set mfa_secret_encrypted = $2, totp_last_step = null, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(sealed)
    .execute(&mut *account.tx)
    .await?;
    account.tx.commit().await?;
    let otpauth_uri = totp::otpauth_uri(&secret, ISSUER, &email);
    let qr_svg = totp::qr_svg(&otpauth_uri)?;
    Ok(Json(Enrolment {
        otpauth_uri,
        secret: encoded,
        qr_svg,
    }))
}

/// The body of `POST /api/v2/user/mfa/totp/confirm`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The authenticator's current code.
    code: String,
}

/// What confirming answers: the recovery codes (shown this once) and the caller's new tokens.
#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    /// Ten single-use codes for when the authenticator is lost; shown this once.
    recovery_codes: Vec<String>,
    /// The caller's new session.
    #[serde(flatten)]
    tokens: Tokens,
}

/// Turns two-factor sign-in on with a code of the enrolled secret: recovery codes, and the
/// caller's new session; every other session is signed out.
#[utoipa::path(
    post,
    path = "/api/v2/user/mfa/totp/confirm",
    tag = "user",
    request_body = Confirm,
    responses(
        (status = 200, description = "Two-factor sign-in is on", body = Confirmed),
        (status = 403, description = "No recent proof: `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to confirm: enrol first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not right", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    mut account: Account,
    Json(body): Json<Confirm>,
) -> Result<Response, Error> {
    account.require_recent_auth()?;
    let id = account.tx.account_id();
    let row: (Option<Vec<u8>>, bool, String) = sqlx::query_as(
        "select mfa_secret_encrypted, mfa_enabled, email from accounts where id = $1 for update",
    )
    .bind(id)
    .fetch_one(&mut *account.tx)
    .await?;
    let (Some(sealed), false, email) = row else {
        return Err(Error::Conflict(
            "nothing to confirm: start with POST /api/v2/user/mfa/totp".into(),
        ));
    };
    let secret = open_secret(&state, id, &sealed)?;
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
    let step = totp::verify(&secret, &body.code, now, None).ok_or_else(|| {
        Error::Unprocessable("this code is not right: check the authenticator's clock".into())
    })?;
    sqlx::query(
        "update accounts set mfa_enabled = true, totp_last_step = $2, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(step)
    .execute(&mut *account.tx)
    .await?;
    let recovery_codes = replace_recovery_codes(&mut account.tx).await?;
    // The new factor is now part of this session, but enrolling it proves nothing about who is
    // calling: the session keeps the time of its last real proof.
    let mut proof = account.claims.proof();
    if !proof.amr.iter().any(|method| method == amr::OTP) {
        proof.amr.push(amr::OTP.to_owned());
    }
    let tokens = replace_sessions(
        &mut account.tx,
        &state.config.keys,
        &proof,
        user_agent(&headers),
    )
    .await?;
    security_event(&mut account.tx, "mfa.enabled").await?;
    account.tx.commit().await?;
    // Whoever holds the mailbox learns of it, in case it was not them.
    let notice = crate::auth::mail::Mail {
        to: email,
        subject: "Two-factor sign-in was turned on for your Dashboard account".into(),
        text: format!(
            "Two-factor sign-in was just turned on for your account, and every other session was \
             signed out. If this was not you, reset your password at {} at once.",
            state.config.public_url
        ),
        link: None,
    };
    super::links::deliver(&state.config.mailer, notice).await;
    let mut tokens = tokens;
    let jar = cookies::deliver(jar, &headers, false, &mut tokens);
    Ok((
        jar,
        Json(Confirmed {
            recovery_codes,
            tokens,
        }),
    )
        .into_response())
}

/// Turns two-factor sign-in off: the caller's new session; every other session is signed out.
#[utoipa::path(
    delete,
    path = "/api/v2/user/mfa/totp",
    tag = "user",
    responses(
        (status = 200, description = "Two-factor sign-in is off", body = Tokens),
        (status = 403, description = "No recent proof: `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An organization of the person requires it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    mut account: Account,
) -> Result<Response, Error> {
    account.require_recent_auth()?;
    let id = account.tx.account_id();
    let requiring: Vec<String> =
        sqlx::query_scalar("select lookup.organizations_requiring_mfa($1)")
            .bind(id)
            .fetch_all(&mut *account.tx)
            .await?;
    if !requiring.is_empty() {
        return Err(Error::Conflict(format!(
            "these organizations require two-factor sign-in of their members: {}",
            requiring.join(", ")
        )));
    }
    sqlx::query(
        "update accounts set mfa_enabled = false, mfa_secret_encrypted = null,
                             totp_last_step = null, updated_at = now()
         where id = $1",
    )
    .bind(id)
    .execute(&mut *account.tx)
    .await?;
    sqlx::query("delete from recovery_codes where account_id = $1")
        .bind(id)
        .execute(&mut *account.tx)
        .await?;
    let proof = account.claims.proof();
    let tokens = replace_sessions(
        &mut account.tx,
        &state.config.keys,
        &proof,
        user_agent(&headers),
    )
    .await?;
    security_event(&mut account.tx, "mfa.disabled").await?;
    account.tx.commit().await?;
    Ok(tokens_response(jar, &headers, tokens))
}

/// New recovery codes.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes; shown this once.
    recovery_codes: Vec<String>,
}

/// Ten new recovery codes; the old ones stop working.
#[utoipa::path(
    post,
    path = "/api/v2/user/mfa/recovery-codes",
    tag = "user",
    responses(
        (status = 200, description = "The new codes", body = RecoveryCodes),
        (status = 403, description = "No recent proof: `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor sign-in is off", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn regenerate_recovery_codes(mut account: Account) -> Result<Json<RecoveryCodes>, Error> {
    account.require_recent_auth()?;
    let id = account.tx.account_id();
    let enabled: bool = sqlx::query_scalar("select mfa_enabled from accounts where id = $1")
        .bind(id)
        .fetch_one(&mut *account.tx)
        .await?;
    if !enabled {
        return Err(Error::Conflict("two-factor sign-in is off".into()));
    }
    let codes = replace_recovery_codes(&mut account.tx).await?;
    security_event(&mut account.tx, "mfa.recovery_codes_regenerated").await?;
    account.tx.commit().await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Replaces the account's recovery codes with new ones, stored hashed, and returns them.
async fn replace_recovery_codes(tx: &mut AccountTx) -> Result<Vec<String>, Error> {
    let codes = totp::generate_recovery_codes()?;
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|code| totp::hash_recovery_code(code).to_vec())
        .collect();
    sqlx::query("delete from recovery_codes where account_id = $1")
        .bind(tx.account_id())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into recovery_codes (account_id, code_hash)
         select $1, hash from unnest($2::bytea[]) as hash",
    )
    .bind(tx.account_id())
    .bind(hashes)
    .execute(&mut **tx)
    .await?;
    Ok(codes)
}
