//! Measurement (run by `scripts/bench-auth`): what authentication costs a cheap endpoint, as
//! deployed. One server (the api function's own router with its probes and request tracing, on a
//! loopback socket) serves the same read — an organization's row in a tenant transaction, as JSON —
//! twice: as `GET /api/v2/orgs/{org}` behind the real `authorize` (access-token check, membership
//! look-up that opens the transaction), as the same route without authentication (the `{org}` slug
//! resolved to its tenant in the statement that opens the transaction, as `authorize` does with the
//! membership), and as a bare route for a tenant known in advance; all three with the ETag layer
//! every read has. `wrk` loads each in alternating
//! rounds; reported: requests per second of each, the ratios, and the time of one password hash
//! (Argon2id) next to one authenticated request.
//! Needs `DATABASE_URL` of a role that may create databases (works in a scratch database) and `wrk`.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    middleware,
    routing::get,
};
use dashboard_api::{
    ApiConfig, AppState,
    api::etag,
    auth::{
        password::Passwords,
        session::{self, Proof, amr},
    },
    orgs::{NewOrganization, Organization, create_organization, read_organization},
};
use dashboard_shared::{
    Db, Error, TenantId,
    db::{MIGRATOR, TenantRow},
    serve, testing,
};
use secrecy::SecretString;
use sqlx::{Arguments as _, postgres::PgArguments};

/// wrk's connections, length of one round, rounds per variant.
const CONNECTIONS: u32 = 8;
const ROUND_SECS: u32 = 5;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    testing::with_scratch_database(|admin| async move {
        MIGRATOR.run(&admin).await?;
        let account: uuid::Uuid = sqlx::query_scalar(
            "insert into app.accounts (email, email_verified_at)
             values ('bench@example.test', now()) returning id",
        )
        .fetch_one(&admin)
        .await?;
        let db = Db::connect_lazy_with(testing::runtime_options(&admin), CONNECTIONS + 2);
        let state = AppState::new(db.clone(), ApiConfig::generated("http://127.0.0.1:8080"));
        let new = NewOrganization {
            slug: "bench".into(),
            name: "Bench".into(),
        };
        let org = create_organization(&db, account, &new).await?;
        let mut tx = db.account(account).await?;
        let proof = Proof::now(&[amr::PASSWORD]);
        let tokens = session::start(&mut tx, &state.config.keys, &proof, None).await?;
        tx.commit().await?;

        // The references answer like the real route but for authentication: its ETag included.
        let bare = Router::new()
            .route(
                "/bench/orgs/{org}",
                get(bare_read).route_layer(middleware::from_fn(etag::tag)),
            )
            .with_state((db.clone(), TenantId::from_uuid(org.id)))
            .merge(
                Router::new()
                    .route(
                        "/open/orgs/{org}",
                        get(open_read).route_layer(middleware::from_fn(etag::tag)),
                    )
                    .with_state(db.clone()),
            );
        let app = serve::service(dashboard_api::routes(state).merge(bare), db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve::serve_on(listener, app, async {
            let _ = stopped.await;
        }));

        let bearer = format!("Authorization: Bearer {}", tokens.access_token);
        let authenticated = format!("http://{address}/api/v2/orgs/bench");
        let open = format!("http://{address}/open/orgs/bench");
        let without = format!("http://{address}/bench/orgs/bench");
        let (mut a, mut o, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            a.push(wrk(&authenticated, Some(&bearer)).await?);
            o.push(wrk(&open, None).await?);
            b.push(wrk(&without, None).await?);
        }
        let _ = stop.send(());
        server.await??;

        let best = |runs: &[f64]| runs.iter().copied().fold(0.0, f64::max);
        let (auth_rps, open_rps, bare_rps) = (best(&a), best(&o), best(&b));
        println!("authenticated GET /api/v2/orgs/{{org}}:      {auth_rps:.0} requests/s (rounds {a:.0?})");
        println!("the same route without authentication:      {open_rps:.0} requests/s (rounds {o:.0?})");
        println!("the same read for a tenant known in advance: {bare_rps:.0} requests/s (rounds {b:.0?})");
        println!(
            "authentication costs {:.1} % of the unauthenticated route's throughput (ratio {:.3}), \
             {:.1} % of the bare read's (ratio {:.3}); best rounds of {ROUNDS}, wrk -c{CONNECTIONS} -d{ROUND_SECS}s",
            (1.0 - auth_rps / open_rps) * 100.0,
            auth_rps / open_rps,
            (1.0 - auth_rps / bare_rps) * 100.0,
            auth_rps / bare_rps
        );

        let passwords = Passwords::new(1);
        let password = SecretString::from("correct horse battery staple 42".to_owned());
        let started = Instant::now();
        const HASHES: u32 = 10;
        for _ in 0..HASHES {
            passwords.hash(&password).await?;
        }
        let hash = started.elapsed() / HASHES;
        let request = Duration::from_secs_f64(f64::from(CONNECTIONS) / auth_rps);
        println!(
            "one Argon2id password hash (m=19456 KiB, t=2, p=1): {:.1} ms, {:.0}x one authenticated \
             request under load ({:.2} ms)",
            hash.as_secs_f64() * 1e3,
            hash.as_secs_f64() / request.as_secs_f64(),
            request.as_secs_f64() * 1e3
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

/// The route without authentication: `{org}` resolved to its tenant by the statement that opens the
/// transaction (as `authorize` resolves the membership), no credential checked.
async fn open_read(
    State(db): State<Db>,
    Path(org): Path<String>,
) -> Result<Json<Organization>, Error> {
    let mut arguments = PgArguments::default();
    arguments
        .add(org)
        .map_err(|error| Error::Internal(anyhow::anyhow!(error)))?;
    let (mut tx, _) = db
        .enter::<Resolved>(
            "select set_config('app.tenant_id', t::text, true), t as tenant_id
             from lookup.tenant_by_slug($1) t where t is not null",
            arguments,
        )
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(read_organization(&mut tx).await?))
}

/// The tenant a slug names.
#[derive(sqlx::FromRow)]
struct Resolved {
    tenant_id: uuid::Uuid,
}

impl TenantRow for Resolved {
    fn tenant(&self) -> TenantId {
        TenantId::from_uuid(self.tenant_id)
    }
}

/// Requests per second wrk measured on `url` (every answer must be 2xx).
async fn wrk(url: &str, header: Option<&str>) -> anyhow::Result<f64> {
    let mut command = Command::new("wrk");
    command.args([
        "-t1",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{ROUND_SECS}s"),
        "--latency",
    ]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    command.arg(url);
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(output.status.success(), "wrk failed: {text}");
    anyhow::ensure!(!text.contains("Non-2xx"), "answers other than 2xx: {text}");
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no Requests/sec in wrk's output: {text}"))
}
