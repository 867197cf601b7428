//! Real git repositories for the scanner's tests, made with the git CLI, and the scan job's set-up.

// Each test crate uses some of these helpers.
#![allow(dead_code)]

pub mod git_http;

use std::{path::Path, process::Command};

/// Runs git in `dir` with a fixed identity; returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Writes `contents` to `path` under `dir`, creating directories.
pub fn write(dir: &Path, path: &str, contents: &[u8]) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, contents).unwrap();
}

/// Writes `path` and commits everything in `dir`; returns the new commit's id.
pub fn commit(dir: &Path, path: &str, contents: &str, message: &str) -> String {
    write(dir, path, contents.as_bytes());
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A scanner context on the runtime role, its mirrors in `mirrors`.
pub fn context(admin: &sqlx::PgPool, mirrors: &Path) -> dashboard_scanner::ScannerContext {
    let db = dashboard_shared::testing::runtime_db(admin);
    dashboard_scanner::ScannerContext {
        db: db.clone(),
        transport: dashboard_shared::jobs::Transport::Postgres(db),
        mirrors: mirrors.to_owned(),
        github: None,
        store: dashboard_scanner::mirror_store::MirrorStore::Local,
        secrets: None,
        fetch: dashboard_scanner::remote::FetchPolicy::new(
            dashboard_scanner::remote::RemotePolicy::Local,
        ),
        limits: dashboard_scanner::limits::Limits::default(),
    }
}

/// A `git` repository row of `tenant` cloned from `url`.
pub async fn add_repository(
    admin: &sqlx::PgPool,
    tenant: dashboard_shared::TenantId,
    url: &str,
) -> uuid::Uuid {
    sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url, default_branch)
         values ($1, 'git', 'demo', $2, 'main') returning id",
    )
    .bind(tenant)
    .bind(url)
    .fetch_one(admin)
    .await
    .unwrap()
}

/// Enqueues a scan of `repository` and runs the scan queue until it is empty; returns how many
/// jobs ran.
pub async fn scan(
    ctx: &dashboard_scanner::ScannerContext,
    tenant: dashboard_shared::TenantId,
    repository: uuid::Uuid,
) -> usize {
    let mut tx = ctx.db.tenant(tenant).await.unwrap();
    dashboard_shared::jobs::enqueue(
        &mut tx,
        &dashboard_shared::jobs::kinds::ScanRepository {
            repository,
            reason: "test".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    dashboard_scanner::worker(ctx.clone())
        .drain()
        .await
        .unwrap()
}
