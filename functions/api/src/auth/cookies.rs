//! The browser's refresh-token cookie (R4): `__Host-refresh`, `Secure`, `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, living as long as its family. The access token stays in memory.
//! Between a correct password and the second factor, the MFA token rides in `__Host-mfa` alike.

use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};

use http::HeaderMap;

use super::{
    session::{FAMILY_TTL, Tokens},
    signin::MFA_TTL,
};

/// The cookie's name; the `__Host-` prefix pins it to our origin, `Secure` and `Path=/`.
pub const REFRESH_COOKIE: &str = "__Host-refresh";

/// The MFA token's cookie.
pub const MFA_COOKIE: &str = "__Host-mfa";

/// Whether a request comes from a browser: browsers send `Sec-Fetch-Mode` on every request, and a
/// page's scripts can neither forge nor remove it (a forbidden header name).
pub fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-mode")
}

/// How the refresh token of `tokens` travels back (R4): to a browser only in the `__Host-refresh`
/// cookie, never in the JSON its scripts can read (the field is emptied and then left out); to
/// other clients only in the JSON. `cookie` forces the browser way (a refresh that came by cookie).
pub fn deliver(
    jar: CookieJar,
    headers: &HeaderMap,
    cookie: bool,
    tokens: &mut Tokens,
) -> CookieJar {
    if cookie || from_browser(headers) {
        let jar = with_refresh(jar, &tokens.refresh_token);
        tokens.refresh_token.clear();
        jar
    } else {
        jar
    }
}

/// The refresh token a browser sent, if any.
pub fn refresh_token(jar: &CookieJar) -> Option<String> {
    jar.get(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// `jar` with the refresh cookie set to `token`.
pub fn with_refresh(jar: CookieJar, token: &str) -> CookieJar {
    jar.add(
        Cookie::build((REFRESH_COOKIE, token.to_owned()))
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(cookie::time::Duration::seconds(FAMILY_TTL.num_seconds())),
    )
}

/// `jar` telling the browser to drop the refresh cookie (sent whether or not it came with the
/// request: a sign-out through the API clears the browser's copy too).
pub fn without_refresh(jar: CookieJar) -> CookieJar {
    jar.add(
        Cookie::build((REFRESH_COOKIE, ""))
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(cookie::time::Duration::ZERO),
    )
}

/// The MFA token a browser sent, if any.
pub fn mfa_token(jar: &CookieJar) -> Option<String> {
    jar.get(MFA_COOKIE).map(|cookie| cookie.value().to_owned())
}

/// `jar` with the MFA cookie set to `token` for the token's lifetime.
pub fn with_mfa(jar: CookieJar, token: &str) -> CookieJar {
    jar.add(host_cookie(MFA_COOKIE, token, MFA_TTL.num_seconds()))
}

/// `jar` telling the browser to drop the MFA cookie.
pub fn without_mfa(jar: CookieJar) -> CookieJar {
    jar.add(host_cookie(MFA_COOKIE, "", 0))
}

fn host_cookie(name: &'static str, value: &str, max_age_seconds: i64) -> Cookie<'static> {
    Cookie::build((name, value.to_owned()))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
}
