//! What the provider sign-in tests share: a real OpenID provider (npm `oidc-provider`, installed
//! into `tests/idp` by `scripts/test`) on a free loopback port, killed when dropped; the browser's
//! part of a flow (our `/start`, the provider's redirects through a cookie-keeping client, our
//! `/callback` with our cookies carried by hand); reading the cookies we set.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use axum::body::Body;
use base64::Engine as _;
use dashboard_api::{ApiConfig, auth::oauth::providers::Providers};
use dashboard_shared::config::Env;
use http::{Method, Request, StatusCode, header};
use serde_json::Value;

use crate::support::{PUBLIC_URL, Reply, TestApp};

/// The client registered in the provider (`idp.mjs` defaults).
pub const CLIENT_ID: &str = "saas-test";
pub const CLIENT_SECRET: &str = "saas-test-secret-0123456789abcdef";

/// A running `node idp.mjs`.
pub struct Idp {
    child: Child,
    /// Its issuer, `http://127.0.0.1:{port}`.
    pub issuer: String,
}

impl Idp {
    /// Starts the provider with our OIDC callback registered and waits for its discovery document.
    pub async fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID provider is not installed: run scripts/test, or `npm ci` in {}",
            dir.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("node")
            .arg("idp.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env(
                "REDIRECT_URIS",
                format!("{PUBLIC_URL}/api/v2/auth/oidc/callback"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is needed to run the test OpenID provider");
        let idp = Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        let discovery = format!("{}/.well-known/openid-configuration", idp.issuer);
        for _ in 0..300 {
            if reqwest::get(&discovery)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return idp;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the test OpenID provider did not start at {}", idp.issuer);
    }

    /// Our settings with this provider as `oidc`.
    pub fn config(&self) -> ApiConfig {
        let mut config = ApiConfig::generated(PUBLIC_URL);
        config.providers = Providers::from_lookup(&Env::from_pairs(&[
            ("OIDC_ISSUER", &self.issuer),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_LABEL", "Test SSO"),
        ]))
        .unwrap();
        config
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A flow begun at our `/start`: where it sends the browser and our flow cookie.
pub struct Started {
    pub location: String,
    pub flow_cookie: String,
}

/// `GET /api/v2/auth/{provider}/start`, which must answer 302 with the flow cookie.
pub async fn start(app: &TestApp, provider: &str) -> Started {
    let reply = get(
        app,
        &format!("/api/v2/auth/{provider}/start?return_to=/orgs"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    Started {
        location: reply.headers[header::LOCATION].to_str().unwrap().to_owned(),
        flow_cookie: set_cookie(&reply, "__Host-oauth").expect("the flow cookie is set"),
    }
}

/// The browser at the provider: follows its redirects (keeping its cookies) as `user` until it
/// is sent to our callback; that callback's path and query.
pub async fn authorize(location: &str, user: &str) -> String {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = format!("{location}&login_hint={user}");
    for _ in 0..10 {
        let response = browser.get(&url).send().await.unwrap();
        let next = response
            .headers()
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("no redirect from {url}: {}", response.status()))
            .to_str()
            .unwrap()
            .to_owned();
        let next = reqwest::Url::parse(&url)
            .unwrap()
            .join(&next)
            .unwrap()
            .to_string();
        if let Some(callback) = next.strip_prefix(PUBLIC_URL) {
            return callback.to_owned();
        }
        url = next;
    }
    panic!("the provider never sent the browser back");
}

/// Calls our callback (or any path) with `cookie` (`name=value`).
pub async fn get(app: &TestApp, path_and_query: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().method(Method::GET).uri(path_and_query);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The `name=value` of cookie `name` set by `reply`.
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
}

/// The flow cookie with `field` of its JSON replaced by `value` (the browser is hostile).
pub fn tamper(flow_cookie: &str, field: &str, value: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (name, encoded) = flow_cookie.split_once('=').unwrap();
    let mut flow: Value = serde_json::from_slice(&b64.decode(encoded).unwrap()).unwrap();
    flow[field] = value.into();
    format!("{name}={}", b64.encode(serde_json::to_vec(&flow).unwrap()))
}

/// The access token that the refresh cookie of a successful callback yields.
pub async fn access_token(app: &TestApp, callback: &Reply) -> String {
    let refresh = set_cookie(callback, "__Host-refresh").expect("the refresh cookie is set");
    let token = refresh.split_once('=').unwrap().1;
    let reply = app
        .call(
            Method::POST,
            "/api/v2/auth/refresh",
            None,
            Some(serde_json::json!({ "refresh_token": token })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["access_token"].as_str().unwrap().to_owned()
}
