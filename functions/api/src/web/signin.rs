//! Signing in and out in a browser: the sign-in page (each configured provider, then email and
//! password), its second step (a TOTP or recovery code) and sign-out. The forms call the JSON
//! API's own handlers, which leave the refresh token in its `__Host-` cookie; the next page's
//! [`session::attach`](super::session::attach) turns it into a session.

use askama::Template;
use axum::{
    Extension, Form, Json,
    body::to_bytes,
    extract::{Query, State},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header::SET_COOKIE};
use serde::Deserialize;

use super::{csrf::CsrfToken, layout::Chrome, layout::render, session};
use crate::{
    AppState,
    auth::{
        context::Account,
        cookies,
        oauth::MFA_PAGE,
        password_flows::{mfa, sign_in},
        permission::Permission,
        session::revoke_family,
    },
    routes::Route,
};

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    use Permission::{Public, SignedIn};
    vec![
        Route::new(Method::GET, "/signin", Public, get(sign_in_page)),
        Route::new(Method::POST, "/signin", Public, post(sign_in_form)),
        Route::new(Method::GET, MFA_PAGE, Public, get(mfa_page)),
        Route::new(Method::POST, MFA_PAGE, Public, post(mfa_form)),
        Route::new(Method::POST, "/signout", SignedIn, post(sign_out)),
    ]
}

/// The sign-in page's address, coming back to `next` afterwards.
pub fn sign_in_href(next: &str) -> String {
    if next == "/" {
        "/signin".into()
    } else {
        let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        format!("/signin?{query}")
    }
}

/// `next` when it is a path on this site, else `/` (no open redirect).
fn local(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".into(),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// A provider's button.
struct ProviderLink {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    email: String,
    error: Option<String>,
    providers: Vec<ProviderLink>,
}

fn sign_in_view(
    state: &AppState,
    csrf: &CsrfToken,
    next: String,
    email: String,
    error: Option<String>,
) -> SignInPage {
    let query = serde_urlencoded::to_string([("return_to", next.as_str())]).unwrap_or_default();
    let providers = state
        .config
        .providers
        .iter()
        .map(|p| ProviderLink {
            label: p.label.clone(),
            href: format!("/api/v2/auth/{}/start?{query}", p.name),
        })
        .collect();
    SignInPage {
        chrome: Chrome::signed_out("Sign in", csrf),
        next,
        email,
        error,
        providers,
    }
}

async fn sign_in_page(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<NextQuery>,
    headers: HeaderMap,
) -> Response {
    let next = local(query.next.as_deref());
    // Someone with a session (pages carry it only from their cookies, `session::attach`) goes on.
    if headers.contains_key(http::header::AUTHORIZATION) {
        return Redirect::to(&next).into_response();
    }
    render(&sign_in_view(&state, &csrf, next, String::new(), None))
}

/// The sign-in form (no `Debug`: it holds a password).
#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn sign_in_form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = local(form.next.as_deref());
    let body = sign_in::PasswordSignIn::new(form.email.clone(), form.password, None);
    let answer = sign_in::sign_in(State(state.clone()), as_browser(headers), jar, Json(body)).await;
    match answer {
        Ok(response) => signed_in(response, &next).await,
        Err(refusal) => {
            let refused = refusal.into_response();
            let status = refused.status();
            let error = if status == StatusCode::TOO_MANY_REQUESTS {
                "Too many attempts. Wait a minute and try again, or reset your password."
            } else {
                "That email and password do not match an account."
            };
            let page = sign_in_view(&state, &csrf, next, form.email, Some(error.into()));
            (status, render(&page)).into_response()
        }
    }
}

/// Where a successful first step goes: on to `next` with the session's cookie, or to the second
/// step with the MFA token's.
async fn signed_in(response: Response, next: &str) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let mfa = serde_json::from_slice::<serde_json::Value>(&bytes)
        .is_ok_and(|v| v["mfa_required"] == serde_json::Value::Bool(true));
    let target = if mfa {
        format!(
            "{MFA_PAGE}?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        )
    } else {
        next.to_owned()
    };
    let mut redirect = Redirect::to(&target).into_response();
    for cookie in parts.headers.get_all(SET_COOKIE) {
        redirect.headers_mut().append(SET_COOKIE, cookie.clone());
    }
    redirect
}

/// `headers` as a browser sends them, so that the API's handlers answer as to a browser (the
/// refresh token in its cookie, never in the body).
fn as_browser(mut headers: HeaderMap) -> HeaderMap {
    headers
        .entry("sec-fetch-mode")
        .or_insert(HeaderValue::from_static("navigate"));
    headers
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    chrome: Chrome,
    next: String,
    error: Option<String>,
}

async fn mfa_page(
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<NextQuery>,
    jar: CookieJar,
) -> Response {
    if cookies::mfa_token(&jar).is_none() {
        return Redirect::to("/signin").into_response();
    }
    render(&MfaPage {
        chrome: Chrome::signed_out("Two-factor sign-in", &csrf),
        next: local(query.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize)]
struct MfaForm {
    code: Option<String>,
    recovery_code: Option<String>,
    next: Option<String>,
}

async fn mfa_form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<MfaForm>,
) -> Response {
    let next = local(form.next.as_deref());
    let filled = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = mfa::MfaStep::new(filled(form.code), filled(form.recovery_code));
    match mfa::second_factor(State(state), as_browser(headers), jar, Json(body)).await {
        Ok(response) => signed_in(response, &next).await,
        Err(refusal) => {
            let status = refusal.into_response().status();
            let page = MfaPage {
                chrome: Chrome::signed_out("Two-factor sign-in", &csrf),
                next,
                error: Some(
                    "That code is not right, or this sign-in expired: try again, or start over."
                        .into(),
                ),
            };
            (status, render(&page)).into_response()
        }
    }
}

async fn sign_out(mut account: Account) -> Result<Response, Error> {
    revoke_family(&mut account.tx, account.claims.sid).await?;
    account.tx.commit().await?;
    Ok((session::forget(CookieJar::new()), Redirect::to("/signin")).into_response())
}
