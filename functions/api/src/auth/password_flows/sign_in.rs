//! `POST /api/v2/auth/password`: sign-in with email and password (and, in one step, the TOTP code
//! when the account has MFA). An unknown address, a wrong password, an account without a password
//! and a disabled account all get the same 401 after the same argon2 work (P5: unknown accounts
//! are verified against a dummy hash). Attempts on a known account are throttled (P6).

use axum::{Json, extract::State, response::Response};
use axum_extra::extract::CookieJar;
use dashboard_shared::{Error, domain::Email};
use http::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Refusal, attempts,
    mfa::{self, SecondFactor},
    respond, user_agent,
};
use crate::{
    AppState,
    api::Problem,
    auth::{
        session::amr,
        signin::{self, Outcome},
    },
};

/// The body of `POST /api/v2/auth/password` (no `Debug`: it holds a password).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSignIn {
    /// The account's address.
    email: String,
    /// Its password.
    password: String,
    /// With two-factor sign-in on, its current code, to sign in in one step.
    totp: Option<String>,
}

impl PasswordSignIn {
    /// The sign-in of a form (the web dashboard's).
    pub(crate) fn new(email: String, password: String, totp: Option<String>) -> Self {
        Self {
            email,
            password,
            totp,
        }
    }
}

/// What `lookup.account_for_sign_in` answers.
/// (Its throttle columns are read again under the row lock, [`attempts::begin`].)
#[derive(sqlx::FromRow)]
struct SignInRow {
    account_id: Uuid,
    password_hash: Option<String>,
    mfa_enabled: bool,
    disabled: bool,
}

/// Signs in with email and password: tokens, or, when the account has two-factor sign-in and no
/// `totp` was given, an MFA token to exchange at `POST /api/v2/auth/mfa`. A browser gets the
/// refresh token in the `__Host-refresh` cookie instead of the JSON.
#[utoipa::path(
    post,
    path = "/api/v2/auth/password",
    tag = "auth",
    request_body = PasswordSignIn,
    responses(
        (status = 200, description = "Signed in, or a second factor is needed", body = Outcome),
        (status = 401, description = "Wrong address, password or code (the same answer for each)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<PasswordSignIn>,
) -> Result<Response, Refusal> {
    let password = SecretString::from(body.password);
    let passwords = &state.config.passwords;
    let row = match Email::parse(&body.email) {
        Ok(email) => find(&state, &email).await?,
        Err(_) => None,
    };
    let Some(row) = row.filter(|row| !row.disabled) else {
        passwords.verify(&password, None).await;
        return Err(Error::Unauthorized.into());
    };
    let mut tx = state.db.account(row.account_id).await?;
    // A throttled or locked account answers like a wrong password (P5): a 429 only known accounts
    // could get would tell which addresses have one. The password is not checked meanwhile.
    match attempts::begin(&mut tx).await {
        Ok(()) => {}
        Err(Refusal::Throttled(_) | Refusal::Locked) => {
            passwords.verify(&password, None).await;
            return Err(Error::Unauthorized.into());
        }
        Err(other) => return Err(other),
    }
    let factor = body
        .totp
        .map(SecondFactor::Totp)
        .filter(|_| row.mfa_enabled);
    let right = passwords
        .verify(&password, row.password_hash.as_deref())
        .await
        && match &factor {
            Some(factor) => mfa::accept(&state, &mut tx, factor).await?,
            None => true,
        };
    if !right {
        attempts::failed(&mut tx).await?;
        tx.commit().await?;
        return Err(Error::Unauthorized.into());
    }
    let keys = &state.config.keys;
    let agent = user_agent(&headers);
    let outcome = if factor.is_some() {
        let first = [amr::PASSWORD.to_owned()];
        Outcome::Tokens(signin::finish_mfa(&mut tx, keys, &first, agent).await?)
    } else {
        signin::complete(&mut tx, keys, amr::PASSWORD, agent).await?
    };
    // With the second factor still to come, the count stays: a known password must not reset
    // the throttle of code guesses.
    if matches!(outcome, Outcome::Tokens(_)) {
        attempts::succeeded(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(respond(jar, &headers, outcome))
}

/// The account registered under `email`, if any.
async fn find(state: &AppState, email: &Email) -> Result<Option<SignInRow>, Error> {
    let mut lookup = state.db.without_tenant().await?;
    Ok(sqlx::query_as(
        "select account_id, password_hash, mfa_enabled, disabled
             from lookup.account_for_sign_in($1)",
    )
    .bind(email.as_str())
    .fetch_optional(&mut *lookup)
    .await?)
}
