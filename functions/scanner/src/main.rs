//! The scanner function's binary: serves [`dashboard_scanner::router`]; `dashboard-scanner
//! poll-due` instead enqueues the polls of the `git` repositories that are due, once (a Cloud Run job
//! run by a scheduler every few minutes), and `dashboard-scanner resync` the daily resync of every
//! repository.

use std::path::PathBuf;

use dashboard_scanner::{
    ScannerContext,
    limits::Limits,
    mirror_store::MirrorStore,
    remote::{FetchPolicy, RemotePolicy},
    router,
};
use dashboard_shared::{
    Config, Db, config::Env, crypto::SecretBox, github::GitHubApp,
    jobs::pubsub::transport_from_lookup, telemetry,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("poll-due") => return dashboard_shared::serve::exit_code(schedule(false).await),
        Some("resync") => return dashboard_shared::serve::exit_code(schedule(true).await),
        _ => {}
    }
    dashboard_shared::serve::run(async |db| {
        let env = Env::process();
        let transport = transport_from_lookup(&env, &db).await?;
        // SCANNER_MIRROR_DIR: where repository mirrors are kept between scans.
        let mirrors = PathBuf::from(
            env.get("SCANNER_MIRROR_DIR")
                .unwrap_or_else(|| "/tmp/dashboard-mirrors".into()),
        );
        // SCANNER_MIRROR_BUCKET: keep mirrors in this Cloud Storage bucket too (Cloud Run).
        let store = match env.get("SCANNER_MIRROR_BUCKET") {
            Some(bucket) => {
                MirrorStore::gcs(&bucket, env.get("STORAGE_EMULATOR_HOST").as_deref()).await?
            }
            None => MirrorStore::Local,
        };
        Ok(router(ScannerContext {
            db,
            transport,
            mirrors,
            github: GitHubApp::from_lookup(&env)?,
            store,
            secrets: SecretBox::from_lookup(&env)?,
            // A shared service: public https and ssh remotes only, never local mode.
            fetch: FetchPolicy::from_lookup(RemotePolicy::Hosted, &env)?,
            limits: Limits::from_lookup(&env)?,
        }))
    })
    .await
}

/// One run of a scheduler: the daily resync, or the polls that are due.
async fn schedule(resync: bool) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let db = Db::connect_lazy(&config.database_url, config.database_max_connections)?;
    db.verify_runtime_role().await?;
    // The jobs reach the scanner through the configured transport (Pub/Sub on Cloud Run).
    let transport = transport_from_lookup(&Env::process(), &db).await?;
    if resync {
        dashboard_scanner::schedule::enqueue_resync(&db, &transport).await?;
    } else {
        dashboard_scanner::schedule::enqueue_due(&db, &transport).await?;
    }
    Ok(())
}
