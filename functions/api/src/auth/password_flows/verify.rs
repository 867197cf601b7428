//! Email verification: `POST /api/v2/auth/verify-email` consumes the emailed link and marks the
//! address verified; `POST /api/v2/auth/verify-email/resend` sends a new link to a signed-in person
//! whose address is not verified yet.

use axum::{Json, extract::State};
use dashboard_shared::{Error, domain::Email};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    links::{self, Purpose},
    signup::verification_mail,
};
use crate::{AppState, api::Problem, auth::context::Account};

/// The body of `POST /api/v2/auth/verify-email`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The `token` of the mailed link.
    token: String,
}

/// The answer to a link that cannot be used.
fn unusable_link() -> Error {
    Error::BadRequest("this link is invalid, already used or expired: ask for a new one".into())
}

/// Marks the address verified with the token of the mailed link (single use, 24 hours).
#[utoipa::path(
    post,
    path = "/api/v2/auth/verify-email",
    tag = "auth",
    request_body = VerifyEmail,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, description = "The link is invalid, already used or expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    Json(body): Json<VerifyEmail>,
) -> Result<StatusCode, Error> {
    let (mut tx, email) = links::consume(&state.db, Purpose::VerifyEmail, &body.token)
        .await?
        .ok_or_else(unusable_link)?;
    // The link vouches for the address it was sent to, not for one the account has since changed to.
    let verified = sqlx::query(
        "update accounts set email_verified_at = coalesce(email_verified_at, now()),
                             updated_at = now()
         where id = $1 and email_normalized = lower($2)",
    )
    .bind(tx.account_id())
    .bind(&email)
    .execute(&mut *tx)
    .await?;
    if verified.rows_affected() == 0 {
        return Err(unusable_link());
    }
    tracing::info!(account.id = %tx.account_id(), "email address verified");
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a new verification link to the signed-in person's address.
#[utoipa::path(
    post,
    path = "/api/v2/auth/verify-email/resend",
    tag = "auth",
    responses(
        (status = 202, description = "A new link is on its way"),
        (status = 409, description = "The address is already verified", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    mut account: Account,
) -> Result<StatusCode, Error> {
    let (email, verified): (String, bool) =
        sqlx::query_as("select email, email_verified_at is not null from accounts where id = $1")
            .bind(account.tx.account_id())
            .fetch_one(&mut *account.tx)
            .await?;
    if verified {
        return Err(Error::Conflict("this address is already verified".into()));
    }
    let email = Email::parse(&email).map_err(|error| Error::Internal(anyhow::anyhow!(error)))?;
    let link = links::create(
        &mut account.tx,
        &state.config.public_url,
        Purpose::VerifyEmail,
        email.as_str(),
    )
    .await?;
    account.tx.commit().await?;
    links::deliver(&state.config.mailer, verification_mail(&email, link)).await;
    Ok(StatusCode::ACCEPTED)
}
