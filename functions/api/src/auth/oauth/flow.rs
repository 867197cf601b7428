//! One browser's sign-in through a provider, between `/start` and `/callback` (O1-O3): the state
//! (128 random bits), the PKCE verifier, the OIDC nonce, the provider and where to return, kept in
//! a short-lived `__Host-oauth` cookie (`Secure`, `HttpOnly`, `SameSite=Lax` so that it comes back
//! on the provider's top-level redirect, 10 minutes). The state's SHA-256 is also stored in
//! `oauth_states`, and consumed at the callback, so a state works once across every instance.

use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use base64::Engine as _;
use chrono::{Duration, Utc};
use dashboard_shared::{Db, Error, crypto::random_bytes};
use oauth2::PkceCodeChallenge;
use serde::{Deserialize, Serialize};

use crate::auth::opaque;

/// The cookie's name.
pub const FLOW_COOKIE: &str = "__Host-oauth";
/// How long a sign-in may take at the provider (O2).
pub const FLOW_TTL: Duration = Duration::minutes(10);
/// The largest flow cookie we read.
const MAX_COOKIE: usize = 4096;
/// The longest `return_to` we keep.
const MAX_RETURN_TO: usize = 1024;

/// What the cookie holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    /// The provider's name.
    pub provider: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The OIDC nonce (none for GitHub).
    pub nonce: Option<String>,
    /// A local path to land on after signing in.
    pub return_to: String,
    /// Unix seconds after which the flow is void.
    pub expires_at: i64,
}

impl Flow {
    /// A new flow for `provider` and its PKCE challenge.
    pub fn begin(provider: &str, with_nonce: bool, return_to: String) -> (Self, PkceCodeChallenge) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let flow = Self {
            provider: provider.to_owned(),
            state: random_token::<16>(),
            verifier: verifier.secret().clone(),
            nonce: with_nonce.then(random_token::<16>),
            return_to,
            expires_at: (Utc::now() + FLOW_TTL).timestamp(),
        };
        (flow, challenge)
    }

    /// `jar` with this flow's cookie.
    pub fn store(&self, jar: CookieJar) -> CookieJar {
        let json = serde_json::to_vec(self).expect("a flow serializes");
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        jar.add(cookie(value, FLOW_TTL))
    }

    /// The flow a browser brought back, if it is readable and unexpired.
    pub fn load(jar: &CookieJar) -> Option<Self> {
        let value = jar.get(FLOW_COOKIE)?.value();
        if value.len() > MAX_COOKIE {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        let flow: Self = serde_json::from_slice(&json).ok()?;
        (flow.expires_at > Utc::now().timestamp()).then_some(flow)
    }

    /// `jar` telling the browser to drop the flow cookie.
    pub fn clear(jar: CookieJar) -> CookieJar {
        jar.add(cookie(String::new(), Duration::zero()))
    }
}

fn cookie(value: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build((FLOW_COOKIE, value))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .build()
}

fn random_token<const N: usize>() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// Records `state` as issued until the flow expires (and forgets expired ones).
pub async fn remember_state(db: &Db, state: &str) -> Result<(), Error> {
    let mut conn = db.without_tenant().await?;
    sqlx::query("select lookup.remember_oauth_state($1, $2)")
        .bind(opaque::hash(state).as_slice())
        .bind(Utc::now() + FLOW_TTL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Consumes `state`: true the first time within its lifetime, false ever after.
pub async fn consume_state(db: &Db, state: &str) -> Result<bool, Error> {
    let mut conn = db.without_tenant().await?;
    let taken: bool = sqlx::query_scalar("select lookup.take_oauth_state($1)")
        .bind(opaque::hash(state).as_slice())
        .fetch_one(&mut *conn)
        .await?;
    Ok(taken)
}

/// `return_to` if it is a path on our own origin (never `//host` or `/\host`, which browsers read
/// as another origin) in visible ASCII (it becomes a `Location` header; others come
/// percent-encoded), else `None`.
pub fn local_path(return_to: &str) -> Option<String> {
    let ok = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.starts_with("/\\")
        && return_to.len() <= MAX_RETURN_TO
        && return_to.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    ok.then(|| return_to.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            local_path("/orgs/acme?tab=1").as_deref(),
            Some("/orgs/acme?tab=1")
        );
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/a\nb",
            "/\u{e9}t\u{e9}",
            "/a b",
            "",
        ] {
            assert_eq!(local_path(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn a_flow_survives_its_cookie_and_carries_128_bit_state() {
        let (flow, _) = Flow::begin("oidc", true, "/".into());
        assert_eq!(flow.state.len(), 22);
        assert_eq!(flow.verifier.len(), 43);
        let jar = flow.store(CookieJar::new());
        let back = Flow::load(&jar).unwrap();
        assert_eq!((back.state, back.nonce), (flow.state, flow.nonce));
        let cookie = jar.get(FLOW_COOKIE).unwrap();
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert!(cookie.secure().unwrap() && cookie.http_only().unwrap());
    }
}
