//! The second factor (T3–T6): `POST /api/v2/auth/mfa` exchanges the MFA token of a correct
//! password (body `mfa_token` or the `__Host-mfa` cookie) and a TOTP code or a recovery code for
//! tokens. A TOTP step is accepted once (`accounts.totp_last_step`), a recovery code once; guesses
//! are throttled on the account like passwords. The token's challenge is consumed only with a
//! right code, so a typo does not send the person back to their password.

use axum::{Json, extract::State, response::Response};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use dashboard_shared::{AccountTx, Error};
use http::HeaderMap;
use serde::Deserialize;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{RefOr, schema::Schema},
};

use super::{Refusal, attempts, tokens_response, totp_settings::open_secret, user_agent};
use crate::{
    AppState,
    api::Problem,
    auth::{
        cookies,
        keys::TokenType,
        session::Tokens,
        signin::{self, MfaClaims},
        totp,
    },
};

/// The longest MFA token accepted.
const MAX_TOKEN_CHARS: usize = 2048;
/// The longest code accepted (a recovery code with separators is 23 characters).
const MAX_CODE_CHARS: usize = 64;

/// A second factor as presented.
pub enum SecondFactor {
    /// A 6-digit TOTP code.
    Totp(String),
    /// One of the recovery codes.
    Recovery(String),
}

impl SecondFactor {
    /// The factor of a request that names at most one: `None` when it names none.
    pub fn from_parts(
        code: Option<String>,
        recovery: Option<String>,
    ) -> Result<Option<Self>, Error> {
        let factor = match (code, recovery) {
            (None, None) => return Ok(None),
            (Some(code), None) => Self::Totp(code),
            (None, Some(recovery)) => Self::Recovery(recovery),
            (Some(_), Some(_)) => {
                return Err(Error::BadRequest(
                    "give either code or recovery_code, not both".into(),
                ));
            }
        };
        let (Self::Totp(text) | Self::Recovery(text)) = &factor;
        if text.chars().count() > MAX_CODE_CHARS {
            return Err(Error::Unauthorized);
        }
        Ok(Some(factor))
    }
}

/// The body of `POST /api/v2/auth/mfa`: the MFA token (or its cookie) and one of the two codes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaStep {
    mfa_token: Option<String>,
    code: Option<String>,
    recovery_code: Option<String>,
}

impl MfaStep {
    /// The second step of a form (the web dashboard's), with the MFA token in its cookie.
    pub(crate) fn new(code: Option<String>, recovery_code: Option<String>) -> Self {
        Self {
            mfa_token: None,
            code,
            recovery_code,
        }
    }
}

impl PartialSchema for MfaStep {
    fn schema() -> RefOr<Schema> {
        super::exactly_one_of(
            "The MFA token of the sign-in (or its cookie) and one of the two codes.",
            &[
                (
                    "mfa_token",
                    "The `mfa_token` of the sign-in (browsers send the `__Host-mfa` cookie instead)",
                ),
                ("code", "The authenticator's current 6-digit code"),
                (
                    "recovery_code",
                    "One of the recovery codes (each works once)",
                ),
            ],
            &["code", "recovery_code"],
        )
    }
}

impl ToSchema for MfaStep {}

/// The second step of a sign-in with two-factor sign-in on: the MFA token and a code for tokens.
#[utoipa::path(
    post,
    path = "/api/v2/auth/mfa",
    tag = "auth",
    request_body = MfaStep,
    responses(
        (status = 200, description = "Signed in", body = Tokens),
        (status = 400, description = "Neither or both of `code` and `recovery_code`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A wrong code, or an MFA token that is missing, expired or used", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn second_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<MfaStep>,
) -> Result<Response, Refusal> {
    let factor = SecondFactor::from_parts(body.code, body.recovery_code)?
        .ok_or_else(|| Error::BadRequest("give code or recovery_code".into()))?;
    let token = body
        .mfa_token
        .or_else(|| cookies::mfa_token(&jar))
        .filter(|token| token.len() <= MAX_TOKEN_CHARS)
        .ok_or(Error::Unauthorized)?;
    let claims: MfaClaims = state
        .config
        .keys
        .verify(TokenType::MfaPending, &token)
        .ok_or(Error::Unauthorized)?;
    let mut tx = state.db.account(claims.sub).await?;
    attempts::begin(&mut tx).await?;
    let open: Option<i32> = sqlx::query_scalar(
        "select 1 from mfa_challenges
         where id = $1 and used_at is null and expires_at > now() for update",
    )
    .bind(claims.jti)
    .fetch_optional(&mut *tx)
    .await?;
    if open.is_none() {
        return Err(Error::Unauthorized.into());
    }
    if !accept(&state, &mut tx, &factor).await? {
        attempts::failed(&mut tx).await?;
        tx.commit().await?;
        return Err(Error::Unauthorized.into());
    }
    let first_factors = signin::consume_mfa_challenge(&mut tx, &claims).await?;
    attempts::succeeded(&mut tx).await?;
    let tokens = signin::finish_mfa(
        &mut tx,
        &state.config.keys,
        &first_factors,
        user_agent(&headers),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account.id = %claims.sub, "signed in with a second factor");
    Ok(tokens_response(jar, &headers, tokens))
}

/// Whether `factor` is right for the account of `tx` (which must have MFA on). An accepted TOTP
/// step is recorded so that it is never accepted again; an accepted recovery code is used up.
/// The caller counts a wrong one as a failed attempt.
pub async fn accept(
    state: &AppState,
    tx: &mut AccountTx,
    factor: &SecondFactor,
) -> Result<bool, Error> {
    let account = tx.account_id();
    match factor {
        SecondFactor::Totp(code) => {
            let row: Option<(Option<Vec<u8>>, Option<i64>)> = sqlx::query_as(
                "select mfa_secret_encrypted, totp_last_step from accounts
                 where id = $1 and mfa_enabled",
            )
            .bind(account)
            .fetch_optional(&mut **tx)
            .await?;
            let Some((Some(sealed), last_step)) = row else {
                return Ok(false);
            };
            let secret = open_secret(state, account, &sealed)?;
            let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
            let Some(step) = totp::verify(&secret, code, now, last_step) else {
                return Ok(false);
            };
            sqlx::query("update accounts set totp_last_step = $2 where id = $1")
                .bind(account)
                .bind(step)
                .execute(&mut **tx)
                .await?;
            Ok(true)
        }
        SecondFactor::Recovery(code) => {
            let used = sqlx::query(
                "update recovery_codes set used_at = now()
                 where account_id = $1 and code_hash = $2 and used_at is null
                   and exists (select 1 from accounts where id = $1 and mfa_enabled)",
            )
            .bind(account)
            .bind(totp::hash_recovery_code(code).as_slice())
            .execute(&mut **tx)
            .await?;
            if used.rows_affected() == 1 {
                tracing::info!(account.id = %account, "a recovery code was used");
            }
            Ok(used.rows_affected() == 1)
        }
    }
}
