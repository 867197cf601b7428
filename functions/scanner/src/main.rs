//! The scanner function's binary: everything is in [`dashboard_scanner::router`].

use std::path::PathBuf;

use dashboard_scanner::{ScannerContext, mirror_store::MirrorStore, router};
use dashboard_shared::{
    config::Env, crypto::SecretBox, github::GitHubApp, jobs::pubsub::transport_from_lookup,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
        }))
    })
    .await
}
