//! Throttling of guesses (notes/auth.md P6, T5).
//!
//! - Per account, the main defence: the account row counts consecutive failures (password or TOTP)
//!   and the handler refuses an attempt until [`delay_after_failures`] has passed since the last
//!   one; at [`LOCK_AFTER_FAILURES`] the password path is locked ([`is_locked`]) until a password
//!   reset. Free attempts first, so a typo costs nothing, and a capped delay, so that someone
//!   guessing cannot lock the owner out for long (lockout DoS).
//! - Per client address, against one address spraying many accounts: [`AddressLimiter`] allows
//!   [`DEFAULT_PER_MINUTE`] requests a minute per address on the `/api/v2/auth/*` routes, as the
//!   axum middleware [`limit_by_address`]; over it, 429 with `Retry-After`.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json,
    extract::{ConnectInfo, Request, State, connect_info::MockConnectInfo},
    middleware::Next,
    response::{IntoResponse, Response},
};
use dashboard_shared::config::Env;
use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock as _, DefaultClock},
};
use http::{HeaderValue, StatusCode, header};

/// Consecutive failures allowed without a delay.
pub const FREE_FAILURES: i32 = 4;
/// The longest delay between two attempts on one account.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Consecutive failures after which the password path is locked until a reset (NIST 800-63B
/// §5.2.2 allows at most 100).
pub const LOCK_AFTER_FAILURES: i32 = 100;

/// How long an account must wait after `consecutive_failures` failed attempts before the next
/// one: none for the first [`FREE_FAILURES`], then 1 s doubling with each failure up to
/// [`MAX_DELAY`] (from the 15th). Check [`is_locked`] first.
pub fn delay_after_failures(consecutive_failures: i32) -> Option<Duration> {
    let over = consecutive_failures.checked_sub(FREE_FAILURES + 1)?;
    let over = u32::try_from(over).ok()?;
    let seconds = 1u64.checked_shl(over.min(32)).unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_DELAY))
}

/// Whether the password path is locked: [`LOCK_AFTER_FAILURES`] consecutive failures, until the
/// owner resets the password by email (which zeroes the count).
pub fn is_locked(consecutive_failures: i32) -> bool {
    consecutive_failures >= LOCK_AFTER_FAILURES
}

/// Requests a minute per client address on the auth routes, unless `AUTH_RATE_LIMIT_PER_MINUTE`
/// says otherwise.
pub const DEFAULT_PER_MINUTE: u32 = 20;
/// Addresses tracked at most. Past it (after pruning), every address is refused until entries
/// expire: memory stays bounded (~10 MB) at the cost of refusing sign-ins during a flood from
/// this many distinct addresses within a minute.
const MAX_TRACKED: usize = 100_000;
/// How often addresses whose allowance is full again are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Where the client's address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddress {
    /// The TCP peer (serve with `into_make_service_with_connect_info::<SocketAddr>()`).
    Connection,
    /// The right-most `X-Forwarded-For` entry, which the proxy in front of us (Cloud Run's front
    /// end) appended; the entries left of it are the client's to forge.
    RightmostForwardedFor,
}

/// An in-memory, per-address rate limiter (GCRA, `governor`); one per instance, cheap to clone.
#[derive(Clone)]
pub struct AddressLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    client_address: ClientAddress,
    max_tracked: usize,
    last_prune: Mutex<Instant>,
}

impl std::fmt::Debug for AddressLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressLimiter")
            .field("client_address", &self.inner.client_address)
            .field("tracked", &self.inner.limiter.len())
            .finish()
    }
}

impl AddressLimiter {
    /// Allows `per_minute` requests a minute per address (a burst of `per_minute`, then one every
    /// `60 / per_minute` seconds).
    pub fn new(per_minute: NonZeroU32, client_address: ClientAddress) -> Self {
        Self::with_capacity(per_minute, client_address, MAX_TRACKED)
    }

    fn with_capacity(per_minute: NonZeroU32, client_address: ClientAddress, max: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
                client_address,
                max_tracked: max,
                last_prune: Mutex::new(Instant::now()),
            }),
        }
    }

    /// From `AUTH_RATE_LIMIT_PER_MINUTE` (default 20) and `TRUST_FORWARDED_FOR` (`true`/`false`;
    /// default `true` on Cloud Run, where `K_SERVICE` is set, `false` elsewhere).
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        let per_minute = env.parse_in(
            "AUTH_RATE_LIMIT_PER_MINUTE",
            DEFAULT_PER_MINUTE,
            1..=100_000,
        )?;
        let on_cloud_run = env.get("K_SERVICE").is_some();
        let trust = env.parse_or("TRUST_FORWARDED_FOR", on_cloud_run)?;
        let client_address = if trust {
            ClientAddress::RightmostForwardedFor
        } else {
            ClientAddress::Connection
        };
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Ok(Self::new(per_minute, client_address))
    }

    /// Counts one request from `address`; `Err` with how long to wait when over the limit.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.prune();
        let key = bucket(address);
        let limiter = &self.inner.limiter;
        if limiter.len() >= self.inner.max_tracked {
            tracing::warn!(
                tracked = limiter.len(),
                "too many client addresses; refusing"
            );
            return Err(PRUNE_EVERY);
        }
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose allowance is full again: once a minute, or once a second while
    /// the map is full.
    fn prune(&self) {
        let Ok(mut last) = self.inner.last_prune.try_lock() else {
            return;
        };
        let full = self.inner.limiter.len() >= self.inner.max_tracked;
        let due = if full {
            Duration::from_secs(1)
        } else {
            PRUNE_EVERY
        };
        if last.elapsed() >= due {
            self.inner.limiter.retain_recent();
            self.inner.limiter.shrink_to_fit();
            *last = Instant::now();
        }
    }

    /// The client's address for `request`, as configured; `None` when it cannot be known.
    fn client(&self, request: &Request) -> Option<IpAddr> {
        let forwarded = match self.inner.client_address {
            ClientAddress::Connection => None,
            ClientAddress::RightmostForwardedFor => rightmost_forwarded_for(request),
        };
        let extensions = request.extensions();
        forwarded
            .or_else(|| {
                extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .or_else(|| {
                extensions
                    .get::<MockConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
    }
}

/// IPv6 clients usually hold a whole /64: one allowance per /64, not per address.
fn bucket(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// The last entry of the last `X-Forwarded-For` header, when it is an IP address.
fn rightmost_forwarded_for(request: &Request) -> Option<IpAddr> {
    let header = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?;
    let entry = header.to_str().ok()?.rsplit(',').next()?.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

/// Axum middleware: `router.layer(axum::middleware::from_fn_with_state(limiter,
/// limit_by_address))`. Over the limit: 429 problem+json with `Retry-After` (whole seconds).
/// Without a client address (a server not serving connect info, with no trusted proxy header)
/// it answers 500 and logs why, rather than letting every request through.
pub async fn limit_by_address(
    State(limiter): State<AddressLimiter>,
    request: Request,
    next: Next,
) -> Response {
    let Some(address) = limiter.client(&request) else {
        return dashboard_shared::Error::Internal(anyhow::anyhow!(
            "no client address for the rate limiter: serve with connect info \
             (into_make_service_with_connect_info) or set TRUST_FORWARDED_FOR behind a proxy"
        ))
        .into_response();
    };
    match limiter.check(address) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many_requests(wait),
    }
}

/// 429 in the shape of `dashboard_shared::Error`'s problem+json.
fn too_many_requests(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let status = StatusCode::TOO_MANY_REQUESTS;
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": status.as_u16(),
        "detail": format!("too many requests from your address; try again in {seconds} s"),
    });
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, middleware::from_fn_with_state, routing::get};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    #[test]
    fn the_first_four_failures_cost_nothing_then_the_delay_doubles_to_15_minutes() {
        for failures in [-1, 0, 1, 4] {
            assert_eq!(delay_after_failures(failures), None, "{failures}");
        }
        let seconds = |failures| delay_after_failures(failures).map(|d| d.as_secs());
        assert_eq!(seconds(5), Some(1));
        assert_eq!(seconds(6), Some(2));
        assert_eq!(seconds(7), Some(4));
        assert_eq!(seconds(14), Some(512));
        assert_eq!(seconds(15), Some(900));
        assert_eq!(seconds(99), Some(900));
        assert_eq!(seconds(i32::MAX), Some(900));
    }

    #[test]
    fn the_password_path_locks_at_100_consecutive_failures() {
        assert!(!is_locked(0));
        assert!(!is_locked(99));
        assert!(is_locked(100));
        assert!(is_locked(i32::MAX));
    }

    fn app(limiter: AddressLimiter) -> Router {
        Router::new()
            .route("/api/v2/auth/password", get(|| async { "ok" }))
            .layer(from_fn_with_state(limiter, limit_by_address))
    }

    fn limiter(per_minute: u32, client_address: ClientAddress) -> AddressLimiter {
        AddressLimiter::new(NonZeroU32::new(per_minute).unwrap(), client_address)
    }

    /// The status of one request from `peer`, with the given `X-Forwarded-For` headers.
    async fn call(app: &Router, peer: Option<&str>, forwarded: &[&str]) -> Response {
        let mut request = Request::get("/api/v2/auth/password");
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        if let Some(peer) = peer {
            let peer: SocketAddr = peer.parse().unwrap();
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        app.clone().oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn the_21st_request_in_a_minute_from_one_address_is_refused() {
        let app = app(limiter(20, ClientAddress::Connection));
        for n in 1..=20 {
            let response = call(&app, Some("192.0.2.1:1000"), &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "request {n}");
        }
        let refused = call(&app, Some("192.0.2.1:1001"), &[]).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3).contains(&retry_after), "{retry_after}");
        assert_eq!(
            refused.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = refused.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], 429);

        let other = call(&app, Some("192.0.2.2:1000"), &[]).await;
        assert_eq!(other.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_forged_forwarded_for_changes_nothing_unless_a_proxy_is_trusted() {
        let app = app(limiter(1, ClientAddress::Connection));
        assert_eq!(
            call(&app, Some("192.0.2.1:1"), &["198.51.100.1"])
                .await
                .status(),
            200
        );
        let second = call(&app, Some("192.0.2.1:1"), &["198.51.100.2"]).await;
        assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[tokio::test]
    async fn behind_a_trusted_proxy_the_rightmost_forwarded_entry_is_the_client() {
        let app = app(limiter(1, ClientAddress::RightmostForwardedFor));
        let proxy = Some("10.0.0.1:1");
        let first = call(&app, proxy, &["203.0.113.9, 198.51.100.1"]).await;
        assert_eq!(first.status(), StatusCode::OK);
        // Forged entries on the left do not make a new client.
        let forged = call(&app, proxy, &["203.0.113.10, 198.51.100.1"]).await;
        assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
        // The last header counts, and a client with another address passes.
        let other = call(&app, proxy, &["198.51.100.1", "198.51.100.2"]).await;
        assert_eq!(other.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_64_share_an_allowance() {
        let app = app(limiter(1, ClientAddress::Connection));
        assert_eq!(
            call(&app, Some("[2001:db8:1:2::1]:1"), &[]).await.status(),
            200
        );
        let same_64 = call(&app, Some("[2001:db8:1:2:ffff::9]:1"), &[]).await;
        assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            call(&app, Some("[2001:db8:1:3::1]:1"), &[]).await.status(),
            200
        );
    }

    #[tokio::test]
    async fn without_a_client_address_the_request_fails_instead_of_passing_unlimited() {
        let app = app(limiter(20, ClientAddress::Connection));
        let response = call(&app, None, &["198.51.100.1"]).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn past_the_tracked_maximum_new_addresses_are_refused() {
        let per_minute = NonZeroU32::new(20).unwrap();
        let limiter = AddressLimiter::with_capacity(per_minute, ClientAddress::Connection, 2);
        assert!(limiter.check("192.0.2.1".parse().unwrap()).is_ok());
        assert!(limiter.check("192.0.2.2".parse().unwrap()).is_ok());
        assert!(limiter.check("192.0.2.3".parse().unwrap()).is_err());
    }

    #[test]
    fn the_limit_comes_from_the_environment() {
        let env = Env::from_pairs(&[("AUTH_RATE_LIMIT_PER_MINUTE", "2"), ("K_SERVICE", "api")]);
        let limiter = AddressLimiter::from_env(&env).unwrap();
        assert_eq!(
            limiter.inner.client_address,
            ClientAddress::RightmostForwardedFor
        );
        let address = "192.0.2.1".parse().unwrap();
        assert!(limiter.check(address).is_ok());
        assert!(limiter.check(address).is_ok());
        assert!(limiter.check(address).is_err());

        let local = AddressLimiter::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(local.inner.client_address, ClientAddress::Connection);
        let refused = Env::from_pairs(&[("AUTH_RATE_LIMIT_PER_MINUTE", "0")]);
        assert!(AddressLimiter::from_env(&refused).is_err());
    }
}
