//! `POST /api/v2/auth/signup`: a new account with a password, whose address is verified by an
//! emailed link. The answer never says whether the address already had an account (P5): both
//! cases hash the password, send one mail and answer the same 202; the owner of an existing
//! address is told by mail that someone tried, and nothing about the account changes.

use axum::{Json, extract::State};
use dashboard_shared::{Error, domain::Email};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::links::{self, Purpose};
use crate::{
    AppState,
    accounts::{NewAccount, create_account},
    auth::{mail::Mail, password::check_new_password},
};

/// The body of `POST /api/v2/auth/signup` (no `Debug`: it holds a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    email: String,
    password: String,
    display_name: Option<String>,
}

/// The longest display name (as the column allows).
const MAX_NAME_CHARS: usize = 200;

/// `POST /api/v2/auth/signup` → 202 `{"status": "check_your_email"}`, whatever the address.
pub async fn sign_up(
    State(state): State<AppState>,
    Json(body): Json<SignUp>,
) -> Result<(StatusCode, Json<Value>), Error> {
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
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "check_your_email",
            "detail": "we sent a message to this address: follow it to continue"
        })),
    ))
}

/// The optional display name: trimmed, at most 200 characters, no control characters.
fn display_name(raw: Option<String>) -> Result<Option<String>, Error> {
    let Some(name) = raw
        .map(|name| name.trim().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::Unprocessable(format!(
            "the display name must have at most {MAX_NAME_CHARS} characters and no control characters"
        )));
    }
    Ok(Some(name))
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
