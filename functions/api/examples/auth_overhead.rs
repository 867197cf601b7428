//! Measurement (run by `scripts/bench-auth`): what authentication costs a cheap endpoint. The same
//! read — an organization's row in a tenant transaction, as JSON — is served in-process twice: as
//! `GET /api/v2/orgs/{org}` behind the real `authorize` (access-token check, membership look-up that
//! opens the transaction) and as a bare route that opens the transaction for a tenant known in
//! advance. Runs alternate A/B rounds and reports requests per second of each and their ratio.
//! Needs `DATABASE_URL` of a role that may create databases; works in a scratch database.

use std::time::{Duration, Instant};

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, State},
    routing::get,
};
use dashboard_api::{
    ApiConfig, AppState,
    auth::session::{self, Proof, amr},
    orgs::{NewOrganization, Organization, create_organization, read_organization},
};
use dashboard_shared::{Db, Error, TenantId, db::MIGRATOR, testing};
use http::Request;
use tower::ServiceExt as _;

/// Concurrent callers, length of one round, rounds per variant.
const CALLERS: usize = 4;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    testing::with_scratch_database(|admin| async move {
        MIGRATOR.run(&admin).await?;
        let account: uuid::Uuid = sqlx::query_scalar(
            "insert into app.accounts (email, email_verified_at) values ('bench@example.test', now()) returning id",
        )
        .fetch_one(&admin)
        .await?;
        let db = Db::connect_lazy_with(testing::runtime_options(&admin), CALLERS as u32 + 1);
        let state = AppState::new(db.clone(), ApiConfig::generated("http://127.0.0.1:8080"));
        let new = NewOrganization { slug: "bench".into(), name: "Bench".into() };
        let org = create_organization(&db, account, &new).await?;
        let mut tx = db.account(account).await?;
        let tokens = session::start(&mut tx, &state.config.keys, &Proof::now(&[amr::PASSWORD]), None).await?;
        tx.commit().await?;

        let authenticated = dashboard_api::routes(state);
        let bare = Router::new()
            .route("/orgs/{org}", get(bare_read))
            .with_state((db, TenantId::from_uuid(org.id)));
        let bearer = format!("Bearer {}", tokens.access_token);
        let with_auth = move || {
            Request::get("/api/v2/orgs/bench")
                .header("authorization", bearer.clone())
                .body(Body::empty())
                .unwrap()
        };
        let without = || Request::get("/orgs/bench").body(Body::empty()).unwrap();

        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            a.push(round(&authenticated, &with_auth).await?);
            b.push(round(&bare, &without).await?);
        }
        let best = |runs: &[f64]| runs.iter().copied().fold(0.0, f64::max);
        let (auth_rps, bare_rps) = (best(&a), best(&b));
        println!("authenticated GET /api/v2/orgs/{{org}}: {auth_rps:.0} requests/s (rounds {a:.0?})");
        println!("same read without authentication:     {bare_rps:.0} requests/s (rounds {b:.0?})");
        println!(
            "authentication costs {:.1} % of throughput (ratio {:.3})",
            (1.0 - auth_rps / bare_rps) * 100.0,
            auth_rps / bare_rps
        );
        Ok(())
    })
    .await
}

/// The bare read: the tenant is known, no credential is checked.
async fn bare_read(
    State((db, tenant)): State<(Db, TenantId)>,
    Path(_org): Path<String>,
) -> Result<Json<Organization>, Error> {
    let mut tx = db.tenant(tenant).await?;
    Ok(Json(read_organization(&mut tx).await?))
}

/// Requests per second of `CALLERS` callers sending `request()` to `router` for [`ROUND`]; every
/// answer must be 200.
async fn round(
    router: &Router,
    request: &(impl Fn() -> Request<Body> + Sync),
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let callers = (0..CALLERS).map(|_| async {
        let mut done = 0_u64;
        while started.elapsed() < ROUND {
            let response = router.clone().oneshot(request()).await?;
            anyhow::ensure!(response.status() == 200, "answered {}", response.status());
            done += 1;
        }
        anyhow::Ok(done)
    });
    let total: u64 = futures_util::future::try_join_all(callers)
        .await?
        .into_iter()
        .sum();
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
