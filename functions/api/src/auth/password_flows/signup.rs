//! `POST /api/v2/auth/signup`: a new account with a password, whose address is verified by an
//! emailed link. The answer never says whether the address already had an account (P5): both
//! cases hash the password, send one mail and answer the same 202; the owner of an existing
//! address is told by mail that someone tried, and nothing about the account changes.

use axum::{Json, extract::State};
use dashboard_shared::{Error, domain::Email};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    CheckYourEmail,
    links::{self, Purpose},
};
use crate::{
    AppState,
    accounts::{NewAccount, create_account},
    api::Problem,
    auth::{mail::Mail, password::check_new_password},
};

/// The body of `POST /api/v2/auth/signup` (no `Debug`: it holds a password).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// The address to sign in with; a link to verify it is mailed there.
    #[schema(format = Email, max_length = 320)]
    email: String,
    /// At least 15 characters, at most 256; not a common password, not the address.
    #[schema(min_length = 15, max_length = 256)]
    password: String,
    /// The name shown to others (at most 200 characters, no control characters).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    display_name: Option<String>,
}

/// The longest display name (as the column allows).
const MAX_NAME_CHARS: usize = 200;

/// A new account with a password; its address is verified by an emailed link. The answer is the
/// same whether or not the address already has an account (its owner is told by mail).
#[utoipa::path(
    post,
    path = "/api/v2/auth/signup",
    tag = "auth",
    request_body = SignUp,
    responses(
        (status = 202, description = "A mail is on its way", body = CheckYourEmail),
        (status = 422, description = "Not an email address, a password that breaks the rules, or a display name too long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    Json(body): Json<SignUp>,
) -> Result<(StatusCode, Json<CheckYourEmail>), Error> {
    let email = Email::parse(&body.email).map_err(Error::Unprocessable)?;
    check_new_password(&body.password, email.as_str(), false)
        .map_err(|rejected| Error::Unprocessable(rejected.to_string()))?;
    let display_name = display_name(body.display_name)?;
    let password = SecretString::from(body.password);
    let new = NewAccount {
        email: &email,
        display_name: display_name.as_deref(),
        password_hash: Some(state.config.passwords.hash(&password).await?),
        email_verified: false,
    };
    let public_url = &state.config.public_url;
    let mail = match create_account(&state.db, new).await {
        Ok(id) => {
            let mut tx = state.db.account(id).await?;
            let link =
                links::create(&mut tx, public_url, Purpose::VerifyEmail, email.as_str()).await?;
            tx.commit().await?;
            tracing::info!(account.id = %id, "account signed up");
            verification_mail(&email, link)
        }
        Err(Error::Conflict(_)) => existing_account_mail(&email, public_url),
        Err(error) => return Err(error),
    };
    links::deliver(&state.config.mailer, mail).await;
    Ok(CheckYourEmail::accepted(
        "we sent a message to this address: follow it to continue",
    ))
}

/// The optional display name: at most 200 characters, no control characters; trimmed, and none
/// when only spaces.
fn display_name(raw: Option<String>) -> Result<Option<String>, Error> {
    let Some(name) = raw else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::Unprocessable(format!(
            "display_name: at most {MAX_NAME_CHARS} characters and no control characters"
        )));
    }
    let name = name.trim();
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

/// The mail with the verification link.
pub fn verification_mail(email: &Email, link: String) -> Mail {
    Mail {
        to: email.as_str().to_owned(),
        subject: "Confirm your email address for Dashboard".into(),
        text: "Open this link within 24 hours to confirm that this address is yours. If you did \
               not sign up for Dashboard, ignore this message."
            .into(),
        link: Some(link),
    }
}

/// The mail to an address that already has an account.
fn existing_account_mail(email: &Email, public_url: &str) -> Mail {
    Mail {
        to: email.as_str().to_owned(),
        subject: "Someone tried to sign up for Dashboard with your address".into(),
        text: format!(
            "Someone tried to create a Dashboard account with this address, which already has \
             one. Nothing was changed. If it was you, sign in at {public_url}, or reset your \
             password from the sign-in page if you forgot it. If it was not you, ignore this \
             message."
        ),
        link: None,
    }
}
