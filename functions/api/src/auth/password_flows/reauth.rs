//! Proving again who you are, for sensitive changes (P7): `POST /api/v2/auth/reauthenticate`
//! takes the password or a second factor and answers tokens of a new session (R6) whose
//! `auth_time` is now; `POST /api/v2/user/password` changes the password given the current one or
//! a recent proof, signs out every other session (R5) and answers the caller's new tokens.

use axum::{Json, extract::State, response::Response};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use http::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{RefOr, schema::Schema},
};

use super::{
    Refusal, attempts,
    mfa::{self, SecondFactor},
    proof_with, replace_sessions, security_event, tokens_response, user_agent,
};
use crate::{
    AppState,
    api::Problem,
    auth::{
        context::Account,
        password::check_new_password,
        session::{self, Tokens, amr},
    },
};

/// The body of `POST /api/v2/auth/reauthenticate`: one of the three.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reauthenticate {
    password: Option<String>,
    code: Option<String>,
    recovery_code: Option<String>,
}

impl PartialSchema for Reauthenticate {
    fn schema() -> RefOr<Schema> {
        super::exactly_one_of(
            "One proof: the password, the authenticator's code or a recovery code.",
            &[
                ("password", "The account's password"),
                ("code", "The authenticator's current code"),
                (
                    "recovery_code",
                    "One of the recovery codes (each works once)",
                ),
            ],
            &["password", "code", "recovery_code"],
        )
    }
}

impl ToSchema for Reauthenticate {}

/// Proves again who the caller is, for the changes that need a recent proof: the tokens of a new
/// session proven now; the old session ends.
#[utoipa::path(
    post,
    path = "/api/v2/auth/reauthenticate",
    tag = "auth",
    request_body = Reauthenticate,
    responses(
        (status = 200, description = "A new session, proven now", body = Tokens),
        (status = 400, description = "Not exactly one of `password`, `code` and `recovery_code`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The password or code is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts on this account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reauthenticate(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    mut account: Account,
    Json(body): Json<Reauthenticate>,
) -> Result<Response, Refusal> {
    let factor = SecondFactor::from_parts(body.code, body.recovery_code)?;
    let (method, right) = match (body.password, factor) {
        (Some(password), None) => {
            attempts::begin(&mut account.tx).await?;
            (
                amr::PASSWORD,
                verify_password(&state, &mut account, password).await?,
            )
        }
        (None, Some(factor)) => {
            attempts::begin(&mut account.tx).await?;
            (
                amr::OTP,
                mfa::accept(&state, &mut account.tx, &factor).await?,
            )
        }
        _ => {
            return Err(
                Error::BadRequest("give one of password, code or recovery_code".into()).into(),
            );
        }
    };
    if !right {
        attempts::failed(&mut account.tx).await?;
        account.tx.commit().await?;
        return Err(Error::Unauthorized.into());
    }
    attempts::succeeded(&mut account.tx).await?;
    session::revoke_family(&mut account.tx, account.claims.sid).await?;
    let proof = proof_with(&account.claims.amr, &[method]);
    let keys = &state.config.keys;
    let tokens = session::start(&mut account.tx, keys, &proof, user_agent(&headers)).await?;
    account.tx.commit().await?;
    Ok(tokens_response(jar, &headers, tokens))
}

/// Whether `password` is the account's.
async fn verify_password(
    state: &AppState,
    account: &mut Account,
    password: String,
) -> Result<bool, Error> {
    let stored: Option<String> =
        sqlx::query_scalar("select password_hash from accounts where id = $1")
            .bind(account.tx.account_id())
            .fetch_one(&mut *account.tx)
            .await?;
    let password = SecretString::from(password);
    Ok(state
        .config
        .passwords
        .verify(&password, stored.as_deref())
        .await)
}

/// The body of `POST /api/v2/user/password` (no `Debug`: it holds passwords).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The password now (without it, the session must have proven who it is recently).
    current_password: Option<String>,
    /// At least 15 characters (8 with two-factor sign-in on), at most 256; not a common
    /// password, not the address.
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Changes the password: the caller's new tokens; every other session is signed out. Without
/// `current_password` it needs a recent proof (P7), which is also how an account that signs in
/// only through a provider sets its first password.
#[utoipa::path(
    post,
    path = "/api/v2/user/password",
    tag = "user",
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed; the caller's new session", body = Tokens),
        (status = 401, description = "The current password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No `current_password` and no recent proof: `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password breaks the rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts on this account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    mut account: Account,
    Json(body): Json<ChangePassword>,
) -> Result<Response, Refusal> {
    let mut methods = vec![];
    match body.current_password {
        Some(current) => {
            attempts::begin(&mut account.tx).await?;
            if !verify_password(&state, &mut account, current).await? {
                attempts::failed(&mut account.tx).await?;
                account.tx.commit().await?;
                return Err(Error::Unauthorized.into());
            }
            attempts::succeeded(&mut account.tx).await?;
            methods.push(amr::PASSWORD);
        }
        None => account.require_recent_auth()?,
    }
    let (email, mfa_enabled): (String, bool) =
        sqlx::query_as("select email, mfa_enabled from accounts where id = $1")
            .bind(account.tx.account_id())
            .fetch_one(&mut *account.tx)
            .await?;
    check_new_password(&body.new_password, &email, mfa_enabled)
        .map_err(|rejected| Error::Unprocessable(rejected.to_string()))?;
    let hash = state
        .config
        .passwords
        .hash(&SecretString::from(body.new_password))
        .await?;
    sqlx::query("update accounts set password_hash = $2, updated_at = now() where id = $1")
        .bind(account.tx.account_id())
        .bind(hash)
        .execute(&mut *account.tx)
        .await?;
    let proof = if methods.is_empty() {
        account.claims.proof()
    } else {
        proof_with(&account.claims.amr, &methods)
    };
    let keys = &state.config.keys;
    let tokens = replace_sessions(&mut account.tx, keys, &proof, user_agent(&headers)).await?;
    security_event(&mut account.tx, "password.changed").await?;
    account.tx.commit().await?;
    Ok(tokens_response(jar, &headers, tokens))
}
