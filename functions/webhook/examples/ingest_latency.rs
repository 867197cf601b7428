//! Benchmark (run by `scripts/bench-ingest`): with the local `postgres` queue, the time from a push
//! delivery's 202 to its commit being stored by the linker's worker, over 200 deliveries sent one
//! after another. Needs `DATABASE_URL` of a role that may create databases; works in a database of
//! its own and drops it afterwards.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use dashboard_shared::{Db, db::MIGRATOR, jobs::Transport, testing};
use dashboard_webhook::{AppState, WebhookConfig, router, signature::sign};
use secrecy::SecretString;
use sqlx::PgPool;
use tower::ServiceExt as _;

const DELIVERIES: usize = 200;
const SECRET: &str = "bench-secret";
const PUSH: &str =
    include_str!("../tests/fixtures/github-webhooks/push/with-new-branch.payload.json");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    testing::with_scratch_database(|admin| async move { run(&admin).await }).await
}

async fn run(admin: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(admin).await?;
    let tenant = testing::create_tenant(admin, "bench").await;
    testing::create_installation(admin, tenant, 1).await;
    sqlx::query(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
         values ($1, 'github', 186853002, 1, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 'master')",
    )
    .bind(tenant)
    .execute(admin)
    .await?;
    let db: Db = testing::runtime_db(admin);
    let config = WebhookConfig {
        app_secrets: vec![SecretString::from(SECRET)],
        app_id: None,
        secret_box: None,
    };
    let webhook = router(AppState::new(
        db.clone(),
        Arc::new(config),
        Transport::Postgres(db.clone()),
    ));
    let linker = dashboard_linker::LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db.clone()),
        github: None,
        semantic: None,
    };
    let worker = tokio::spawn(dashboard_linker::worker(linker).run());
    tokio::time::sleep(Duration::from_millis(300)).await; // the worker is listening

    let mut latencies = Vec::with_capacity(DELIVERIES);
    for i in 0..DELIVERIES {
        let sha = format!("{:040x}", 0xfeed_0000_u64 + i as u64);
        let body = PUSH.replace("6113728f27ae82c7b1a177c8d03f9e96e0adf246", &sha);
        anyhow::ensure!(body.contains(&sha), "the fixture's commit id changed");
        let request = Request::post("/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
            .header("x-hub-signature-256", sign(SECRET, body.as_bytes()))
            .body(Body::from(body))?;
        let response = webhook.clone().oneshot(request).await?;
        anyhow::ensure!(
            response.status() == 202,
            "delivery {i} answered {}",
            response.status()
        );
        let accepted = Instant::now();
        loop {
            let stored: bool =
                sqlx::query_scalar("select exists (select 1 from app.commits where sha = $1)")
                    .bind(&sha)
                    .fetch_one(admin)
                    .await?;
            if stored {
                break;
            }
            anyhow::ensure!(
                accepted.elapsed() < Duration::from_secs(30),
                "commit {sha} never stored"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(accepted.elapsed());
    }
    worker.abort();
    // Reference, same run: one database round trip (what a single step of the pipeline costs at least).
    let mut round_trips = Vec::with_capacity(DELIVERIES);
    for _ in 0..DELIVERIES {
        let started = Instant::now();
        sqlx::query("select 1").execute(admin).await?;
        round_trips.push(started.elapsed());
    }
    round_trips.sort();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "202 -> commit stored, {DELIVERIES} deliveries: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    );
    let floor = round_trips[round_trips.len() / 2];
    println!(
        "reference: one database round trip, p50 {:.3} ms; ratio of p50s: {:.0}",
        floor.as_secs_f64() * 1e3,
        at(0.50).as_secs_f64() / floor.as_secs_f64()
    );
    Ok(())
}
