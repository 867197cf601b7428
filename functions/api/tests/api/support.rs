//! `TestApp`: the api function's router on a fresh database, called in-process, with helpers that
//! make accounts, organizations and memberships the way the product does.

use axum::{Router, body::Body};
use dashboard_api::{
    ApiConfig, AppState,
    auth::session::{self, Proof, Tokens},
};
use dashboard_shared::testing::runtime_db;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt as _;
use uuid::Uuid;

/// The origin tests pretend to be served at.
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The router and its database.
pub struct TestApp {
    /// The administrative pool of the test database (arranging, inspecting).
    pub admin: PgPool,
    /// The state the router runs with.
    pub state: AppState,
    router: Router,
}

/// A response, its body parsed as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    /// The body as it came.
    pub body: Vec<u8>,
}

impl TestApp {
    /// The api function as deployed (probes, tracing, error shapes) on `admin`'s database, with
    /// fresh keys.
    pub fn new(admin: PgPool) -> Self {
        Self::with_config(admin, ApiConfig::generated(PUBLIC_URL))
    }

    /// The api function with `config`.
    pub fn with_config(admin: PgPool, config: ApiConfig) -> Self {
        let state = AppState::new(runtime_db(&admin), config);
        // In-process requests have no peer; the per-address limiter of the auth routes needs one.
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40_000));
        let router = dashboard_api::router(state.clone())
            .layer(axum::extract::connect_info::MockConnectInfo(peer));
        Self {
            admin,
            state,
            router,
        }
    }

    /// Sends a request; `bearer` goes in `Authorization`, `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    /// Sends a prepared request and reads only the head of the answer (an event stream never
    /// ends).
    pub async fn send_for_status(&self, request: Request<Body>) -> (StatusCode, HeaderMap) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        (response.status(), response.headers().clone())
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            body: bytes.to_vec(),
        }
    }

    /// An account with a verified `email` (no password), as sign-up and verification leave it.
    pub async fn create_account(&self, email: &str) -> Uuid {
        sqlx::query_scalar(
            "insert into app.accounts (email, display_name, email_verified_at)
             values ($1, $1, now()) returning id",
        )
        .bind(email)
        .fetch_one(&self.admin)
        .await
        .unwrap()
    }

    /// Tokens of a new session of `account`, as a password sign-in issues them.
    pub async fn sign_in(&self, account: Uuid) -> Tokens {
        self.sign_in_with(account, &[session::amr::PASSWORD]).await
    }

    /// Tokens of a new session of `account`, proven by `methods`.
    pub async fn sign_in_with(&self, account: Uuid, methods: &[&str]) -> Tokens {
        let mut tx = self.state.db.account(account).await.unwrap();
        let tokens = session::start(&mut tx, &self.state.config.keys, &Proof::now(methods), None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        tokens
    }

    /// An account signed in: its id and access token.
    pub async fn person(&self, email: &str) -> (Uuid, String) {
        let account = self.create_account(email).await;
        let tokens = self.sign_in(account).await;
        (account, tokens.access_token)
    }

    /// Creates organization `slug` through the API with `owner_token`'s account as owner.
    pub async fn create_org(&self, owner_token: &str, slug: &str) {
        let reply = self
            .call(
                Method::POST,
                "/api/v2/orgs",
                Some(owner_token),
                Some(serde_json::json!({ "slug": slug, "name": slug })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }

    /// Makes `account` a member of `slug` with `role` (as an accepted invitation does).
    pub async fn add_member(&self, slug: &str, account: Uuid, role: &str) {
        sqlx::query(
            "insert into app.memberships (tenant_id, account_id, role)
             select id, $2, $3 from app.tenants where slug = $1",
        )
        .bind(slug)
        .bind(account)
        .bind(role)
        .execute(&self.admin)
        .await
        .unwrap();
    }
}
