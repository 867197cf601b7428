//! The browser's refresh-token cookie (R4): `__Host-refresh`, `Secure`, `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, living as long as its family. The access token stays in memory.

use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};

use super::session::FAMILY_TTL;

/// The cookie's name; the `__Host-` prefix pins it to our origin, `Secure` and `Path=/`.
pub const REFRESH_COOKIE: &str = "__Host-refresh";

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
