//! Email and password accounts and their second factor, as HTTP endpoints: sign-up and email
//! verification, password sign-in with per-account throttling, the TOTP step, password reset by
//! emailed link, re-authentication and password change, TOTP enrolment and recovery codes. The
//! building blocks (hashing, password rules, TOTP, mail, throttles) are in the sibling modules.

mod attempts;
mod links;
pub(crate) mod mfa;
mod reauth;
pub(crate) mod reset;
pub(crate) mod sign_in;
pub(crate) mod signup;
mod totp_settings;
pub(crate) mod verify;

use axum::{
    Json,
    response::{IntoResponse as _, Response},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::{AccountTx, Error};
use http::{HeaderMap, StatusCode, header::USER_AGENT};
use serde::Serialize;
use utoipa::{
    ToSchema,
    openapi::{
        AllOfBuilder, ObjectBuilder, OneOfBuilder, RefOr, Type,
        schema::{AdditionalProperties, Schema},
    },
};
use utoipa_axum::routes;

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
        Route::documented(Public, routes!(signup::sign_up)),
        Route::documented(Public, routes!(verify::verify_email)),
        Route::documented(SignedIn, routes!(verify::resend)),
        Route::documented(Public, routes!(sign_in::sign_in)),
        Route::documented(Public, routes!(mfa::second_factor)),
        Route::documented(Public, routes!(reset::request)),
        Route::documented(Public, routes!(reset::confirm)),
        Route::documented(SignedIn, routes!(reauth::reauthenticate)),
        Route::documented(SignedIn, routes!(reauth::change_password)),
        Route::documented(SignedIn, routes!(totp_settings::enrol)),
        Route::documented(SignedIn, routes!(totp_settings::confirm)),
        Route::documented(SignedIn, routes!(totp_settings::disable)),
        Route::documented(SignedIn, routes!(totp_settings::regenerate_recovery_codes)),
    ]
}

/// The answer of a request whose outcome arrives by mail (the same whether or not the address has
/// an account, P5).
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckYourEmail {
    /// Always `check_your_email`.
    #[schema(pattern = "^check_your_email$")]
    status: &'static str,
    /// What to do next.
    detail: &'static str,
}

impl CheckYourEmail {
    /// 202 with `detail`.
    fn accepted(detail: &'static str) -> (StatusCode, Json<Self>) {
        (
            StatusCode::ACCEPTED,
            Json(Self {
                status: "check_your_email",
                detail,
            }),
        )
    }
}

/// The schema of a body of text `fields` (name, description), none null, nothing else, and exactly
/// one of `alternatives` among them: what [`mfa::SecondFactor::from_parts`] and the
/// re-authentication accept.
fn exactly_one_of(
    description: &str,
    fields: &[(&str, &str)],
    alternatives: &[&str],
) -> RefOr<Schema> {
    let mut body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, about) in fields {
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(*about));
        body = body.property(*name, text);
    }
    let one = alternatives.iter().fold(OneOfBuilder::new(), |one, name| {
        one.item(ObjectBuilder::new().required(*name))
    });
    RefOr::T(Schema::AllOf(
        AllOfBuilder::new().item(body).item(one).build(),
    ))
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
