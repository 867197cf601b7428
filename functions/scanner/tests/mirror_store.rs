//! Mirrors kept in Cloud Storage, against a real emulator (fake-gcs-server, installed by
//! `scripts/test` and named by `FAKE_GCS_SERVER`): a scan on one instance stores the mirror, a fresh
//! instance restores it before scanning (a fetch, not a clone), and the stored mirror follows new
//! commits.

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{add_repository, commit, context, git, scan};
use dashboard_scanner::{
    mirror::{has_commit, mirror_path},
    mirror_store::MirrorStore,
};
use dashboard_shared::testing;
use sqlx::PgPool;

/// fake-gcs-server on a free loopback port with bucket `mirrors`, stopped when dropped.
struct Emulator {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn emulator() -> Emulator {
    let binary = std::env::var("FAKE_GCS_SERVER")
        .expect("FAKE_GCS_SERVER names the fake-gcs-server binary (scripts/test installs it)");
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("mirrors")).unwrap();
    let port = testing::binary::free_port();
    let child = Command::new(binary)
        .args([
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-backend",
            "memory",
        ])
        .args([
            "-port",
            &port.to_string(),
            "-data",
            data.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fake-gcs-server starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Emulator {
        child,
        url,
        _data: data,
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn mirrors_survive_the_instance_in_cloud_storage(admin: PgPool) {
    let gcs = emulator().await;
    let store = MirrorStore::gcs("mirrors", Some(&gcs.url)).await.unwrap();
    let origin = tempfile::tempdir().unwrap();
    git(origin.path(), &["init", "-q"]);
    let first = commit(
        origin.path(),
        "package.json",
        r#"{"name": "app", "version": "1.0.0"}"#,
        "app",
    );
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, origin.path().to_str().unwrap()).await;

    // Instance one scans and stores its mirror.
    let instance_one = tempfile::tempdir().unwrap();
    let mut ctx = context(&admin, instance_one.path());
    ctx.store = store.clone();
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = mirror_path(elsewhere.path(), tenant.as_uuid(), repository);
    assert!(
        store
            .restore(&restored, tenant.as_uuid(), repository)
            .await
            .unwrap()
    );
    assert!(has_commit(&restored, &first));
    assert!(
        !store
            .restore(&restored, tenant.as_uuid(), repository)
            .await
            .unwrap(),
        "a mirror already here is not restored again"
    );
    let unknown = uuid::Uuid::new_v4();
    assert!(
        !store
            .restore(
                &mirror_path(elsewhere.path(), tenant.as_uuid(), unknown),
                tenant.as_uuid(),
                unknown
            )
            .await
            .unwrap(),
        "nothing stored: nothing restored, no error"
    );

    // Instance two starts empty: it restores, fetches the new commit, and stores the result.
    let second = commit(
        origin.path(),
        "package.json",
        r#"{"name": "app", "version": "1.1.0"}"#,
        "release",
    );
    let instance_two = tempfile::tempdir().unwrap();
    let mut ctx = context(&admin, instance_two.path());
    ctx.store = store.clone();
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    let version: Option<String> =
        sqlx::query_scalar("select version from app.projects where repository_id = $1")
            .bind(repository)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(version.as_deref(), Some("1.1.0"));
    let again = tempfile::tempdir().unwrap();
    let restored = mirror_path(again.path(), tenant.as_uuid(), repository);
    assert!(
        store
            .restore(&restored, tenant.as_uuid(), repository)
            .await
            .unwrap()
    );
    assert!(
        has_commit(&restored, &second),
        "the stored mirror follows new commits"
    );
    assert!(has_commit(&restored, &first));
}
