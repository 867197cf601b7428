//! The pages of an account's own links and forms: sign-up, the email verification link, the
//! password reset (request, then the mailed link), and accepting an invitation. Every mailed link
//! opens a page with a button: the token is used by the `POST` it sends, never by the `GET` a mail
//! scanner may make. Each form calls the JSON API's own handler.

use askama::Template;
use axum::{
    Extension, Form,
    extract::{Query, State},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use dashboard_shared::Error;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, body, render},
};
use crate::{
    AppState,
    auth::{
        context::Account,
        password_flows::{reset, signup, verify},
        permission::Permission,
    },
    orgs::invitations::accept::accept_invitation,
    routes::Route,
};

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    use Permission::{Public, SignedIn};
    vec![
        Route::new(Method::GET, "/signup", Public, get(sign_up_page)),
        Route::new(Method::POST, "/signup", Public, post(sign_up)),
        Route::new(Method::GET, "/verify-email", Public, get(verify_page)),
        Route::new(Method::POST, "/verify-email", Public, post(verify)),
        Route::new(Method::GET, "/reset", Public, get(reset_page)),
        Route::new(Method::POST, "/reset", Public, post(reset_request)),
        Route::new(
            Method::GET,
            "/reset-password",
            Public,
            get(new_password_page),
        ),
        Route::new(Method::POST, "/reset-password", Public, post(new_password)),
        Route::new(
            Method::GET,
            "/invitations/accept",
            SignedIn,
            get(invitation_page),
        ),
        Route::new(Method::POST, "/invitations/accept", SignedIn, post(accept)),
    ]
}

/// A page with a message and a way on.
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    text: String,
    link: Option<(String, String)>,
}

fn message(csrf: &CsrfToken, title: &str, text: &str, link: Option<(&str, &str)>) -> Response {
    render(&MessagePage {
        chrome: Chrome::signed_out(title, csrf),
        text: text.to_owned(),
        link: link.map(|(href, label)| (href.to_owned(), label.to_owned())),
    })
}

/// A form of this module: its fields, what it says, its button.
#[derive(Template)]
#[template(path = "account_form.html")]
struct FormPage {
    chrome: Chrome,
    action: &'static str,
    intro: String,
    error: Option<String>,
    fields: Vec<Field>,
    button: &'static str,
}

/// One field of a [`FormPage`].
struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    required: bool,
}

impl Field {
    fn new(
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        autocomplete: &'static str,
    ) -> Self {
        Self {
            name,
            label,
            kind,
            autocomplete,
            value: String::new(),
            required: true,
        }
    }

    fn valued(mut self, value: &str) -> Self {
        self.value = value.to_owned();
        self
    }

    fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// A form page answering `status` (the form again, with `error`, after a refusal).
fn form_page(status: StatusCode, page: &FormPage) -> Response {
    (status, render(page)).into_response()
}

fn sign_up_form(csrf: &CsrfToken, error: Option<String>, email: &str, name: &str) -> FormPage {
    FormPage {
        chrome: Chrome::signed_out("Sign up", csrf),
        action: "/signup",
        intro: "Create an account with your email address. We send a link to confirm it.".into(),
        error,
        fields: vec![
            Field::new("email", "Email", "email", "email").valued(email),
            Field::new("display_name", "Your name", "text", "name")
                .valued(name)
                .optional(),
            Field::new(
                "password",
                "Password (at least 15 characters)",
                "password",
                "new-password",
            ),
        ],
        button: "Sign up",
    }
}

async fn sign_up_page(Extension(csrf): Extension<CsrfToken>) -> Response {
    form_page(StatusCode::OK, &sign_up_form(&csrf, None, "", ""))
}

#[derive(Deserialize)]
struct SignUpForm {
    email: String,
    password: String,
    display_name: Option<String>,
}

async fn sign_up(
    state: State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<SignUpForm>,
) -> Result<Response, Error> {
    let name = form.display_name.unwrap_or_default();
    let mut fields = json!({ "email": form.email.trim(), "password": form.password });
    if !name.trim().is_empty() {
        fields["display_name"] = json!(name.trim());
    }
    match signup::sign_up(state, body(fields)?).await {
        Ok(_) => Ok(message(
            &csrf,
            "Check your email",
            "If the address can be used, a link to confirm it is on its way. Open it to finish signing up.",
            Some(("/signin", "Sign in")),
        )),
        Err(error @ Error::Unprocessable(_)) => Ok(form_page(
            error.status(),
            &sign_up_form(&csrf, Some(error.to_string()), &form.email, &name),
        )),
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The page of a mailed link: one button that sends its token.
fn confirm_link(
    csrf: &CsrfToken,
    title: &str,
    action: &'static str,
    token: &str,
    intro: &str,
    button: &'static str,
) -> Response {
    form_page(
        StatusCode::OK,
        &FormPage {
            chrome: Chrome::signed_out(title, csrf),
            action,
            intro: intro.to_owned(),
            error: None,
            fields: vec![Field::new("token", "", "hidden", "off").valued(token)],
            button,
        },
    )
}

async fn verify_page(
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let token = query.token.unwrap_or_default();
    confirm_link(
        &csrf,
        "Confirm your address",
        "/verify-email",
        &token,
        "Confirm that this email address is yours.",
        "Confirm my address",
    )
}

#[derive(Deserialize)]
struct TokenForm {
    token: String,
}

async fn verify(
    state: State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<TokenForm>,
) -> Result<Response, Error> {
    verify::verify_email(state, body(json!({ "token": form.token }))?).await?;
    Ok(message(
        &csrf,
        "Address confirmed",
        "Your email address is confirmed.",
        Some(("/signin", "Sign in")),
    ))
}

fn reset_form(csrf: &CsrfToken) -> FormPage {
    FormPage {
        chrome: Chrome::signed_out("Reset your password", csrf),
        action: "/reset",
        intro: "Give your account's address: we send a link to choose a new password.".into(),
        error: None,
        fields: vec![Field::new("email", "Email", "email", "email")],
        button: "Send the link",
    }
}

async fn reset_page(Extension(csrf): Extension<CsrfToken>) -> Response {
    form_page(StatusCode::OK, &reset_form(&csrf))
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn reset_request(
    state: State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<EmailForm>,
) -> Result<Response, Error> {
    let _accepted = reset::request(state, body(json!({ "email": form.email.trim() }))?).await?;
    Ok(message(
        &csrf,
        "Check your email",
        "If an account uses that address, a link to choose a new password is on its way.",
        Some(("/signin", "Back to sign in")),
    ))
}

fn new_password_form(csrf: &CsrfToken, token: &str, error: Option<String>) -> FormPage {
    FormPage {
        chrome: Chrome::signed_out("Choose a new password", csrf),
        action: "/reset-password",
        intro: "Choose a new password. Every session of the account ends.".into(),
        error,
        fields: vec![
            Field::new("token", "", "hidden", "off").valued(token),
            Field::new(
                "password",
                "New password (at least 15 characters; 8 with two-factor sign-in)",
                "password",
                "new-password",
            ),
        ],
        button: "Change my password",
    }
}

async fn new_password_page(
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<TokenQuery>,
) -> Response {
    form_page(
        StatusCode::OK,
        &new_password_form(&csrf, &query.token.unwrap_or_default(), None),
    )
}

#[derive(Deserialize)]
struct NewPasswordForm {
    token: String,
    password: String,
}

async fn new_password(
    state: State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, Error> {
    let fields = json!({ "token": form.token, "password": form.password });
    match reset::confirm(state, body(fields)?).await {
        Ok(_) => Ok(message(
            &csrf,
            "Password changed",
            "Your password is changed: sign in with it.",
            Some(("/signin", "Sign in")),
        )),
        Err(error @ Error::Unprocessable(_)) => Ok(form_page(
            error.status(),
            &new_password_form(&csrf, &form.token, Some(error.to_string())),
        )),
        Err(other) => Err(other),
    }
}

async fn invitation_page(
    _account: Account,
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let token = query.token.unwrap_or_default();
    confirm_link(
        &csrf,
        "Join an organization",
        "/invitations/accept",
        &token,
        "You were invited to an organization.",
        "Accept the invitation",
    )
}

async fn accept(
    State(state): State<AppState>,
    account: Account,
    Form(form): Form<TokenForm>,
) -> Result<Response, Error> {
    let account_id = account.tx.account_id();
    drop(account);
    let joined = accept_invitation(&state.db, account_id, &form.token).await?;
    Ok(Redirect::to(&format!("/orgs/{}", joined.slug)).into_response())
}
