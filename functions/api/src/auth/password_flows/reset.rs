//! Password reset by emailed link: `POST /api/v2/auth/password-reset` always answers 202 at once
//! and does its work (look-up, link, mail) after answering, so neither the answer nor its timing
//! says whether the address has an account (P5); `POST /api/v2/auth/password-reset/confirm` sets
//! the new password (P4, with the account's MFA state), marks the address verified (the link
//! proved it), clears the sign-in throttle and lock, and signs out every session (R5).

use axum::{Json, extract::State};
use dashboard_shared::{Error, domain::Email};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    CheckYourEmail,
    links::{self, Purpose},
    security_event,
};
use crate::{
    AppState,
    api::Problem,
    auth::{mail::Mail, password::check_new_password, session},
};

/// The body of `POST /api/v2/auth/password-reset`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's address.
    #[schema(format = Email, max_length = 320)]
    email: String,
}

/// Mails a link to choose a new password (single use, one hour) when the address has an account;
/// the answer is the same either way, and comes at once.
#[utoipa::path(
    post,
    path = "/api/v2/auth/password-reset",
    tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "A mail is on its way if the address has an account", body = CheckYourEmail),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request(
    State(state): State<AppState>,
    Json(body): Json<ResetRequest>,
) -> Result<(StatusCode, Json<CheckYourEmail>), Error> {
    let email = Email::parse(&body.email).map_err(Error::Unprocessable)?;
    tokio::spawn(async move {
        if let Err(error) = send_reset_link(&state, &email).await {
            tracing::warn!(error = %error, "a password reset link could not be prepared");
        }
    });
    Ok(CheckYourEmail::accepted(
        "if this address has an account, we sent it a link to choose a new password",
    ))
}

/// Mails a reset link when `email` belongs to an enabled account.
async fn send_reset_link(state: &AppState, email: &Email) -> Result<(), Error> {
    let mut lookup = state.db.without_tenant().await?;
    let account: Option<(Uuid, bool)> =
        sqlx::query_as("select account_id, disabled from lookup.account_for_sign_in($1)")
            .bind(email.as_str())
            .fetch_optional(&mut *lookup)
            .await?;
    drop(lookup);
    let Some((account, false)) = account else {
        return Ok(());
    };
    let mut tx = state.db.account(account).await?;
    let stored: String = sqlx::query_scalar("select email from accounts where id = $1")
        .bind(account)
        .fetch_one(&mut *tx)
        .await?;
    let link = links::create(
        &mut tx,
        &state.config.public_url,
        Purpose::ResetPassword,
        &stored,
    )
    .await?;
    tx.commit().await?;
    let mail = Mail {
        to: stored,
        subject: "Reset your Dashboard password".into(),
        text: "Someone asked to reset the password of your Dashboard account. Open this link \
               within an hour to choose a new one; it works once. If it was not you, ignore this \
               message: your password stays as it is."
            .into(),
        link: Some(link),
    };
    links::deliver(&state.config.mailer, mail).await;
    Ok(())
}

/// The body of `POST /api/v2/auth/password-reset/confirm` (no `Debug`: it holds a password).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The `token` of the mailed link.
    token: String,
    /// The new password: at least 15 characters (8 with two-factor sign-in on), at most 256; not
    /// a common password, not the address.
    #[schema(min_length = 8, max_length = 256)]
    password: String,
}

/// Sets a new password with the token of the mailed link; every session of the account ends, and
/// its API tokens are revoked.
#[utoipa::path(
    post,
    path = "/api/v2/auth/password-reset/confirm",
    tag = "auth",
    request_body = ResetConfirm,
    responses(
        (status = 204, description = "The password is changed; sign in with it"),
        (status = 400, description = "The link is invalid, already used or expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks the rules (the link stays usable)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    Json(body): Json<ResetConfirm>,
) -> Result<StatusCode, Error> {
    let (mut tx, _sent_to) = links::consume(&state.db, Purpose::ResetPassword, &body.token)
        .await?
        .ok_or_else(|| {
            Error::BadRequest(
                "this link is invalid, already used or expired: ask for a new one".into(),
            )
        })?;
    let account = tx.account_id();
    let (email, mfa_enabled): (String, bool) =
        sqlx::query_as("select email, mfa_enabled from accounts where id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
    // Refused: the transaction is dropped and the link stays usable for a better password.
    check_new_password(&body.password, &email, mfa_enabled)
        .map_err(|rejected| Error::Unprocessable(rejected.to_string()))?;
    let hash = state
        .config
        .passwords
        .hash(&SecretString::from(body.password))
        .await?;
    sqlx::query(
        "update accounts set password_hash = $2, email_verified_at = coalesce(email_verified_at, now()),
                             failed_sign_ins = 0, last_failed_at = null, updated_at = now()
         where id = $1",
    )
    .bind(account)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    session::revoke_all(&mut tx).await?;
    crate::accounts::revoke_api_tokens_everywhere(&mut tx).await?;
    security_event(&mut tx, "password.reset").await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
