//! Mirrors kept in Cloud Storage, against a real emulator (fake-gcs-server, installed by
//! `scripts/test` and named by `FAKE_GCS_SERVER`): a scan on one instance stores the mirror, a fresh
//! instance restores it before scanning (a fetch, not a clone), and the stored mirror follows new
//! commits; a mirror far larger than what the process may grow by goes up and comes back streamed.

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

/// fake-gcs-server on port 80 of a loopback address of its own (127.x.y.z). Port 80 because the
/// Cloud Storage client names an emulator without its port in the `Host` header, and the emulator
/// builds a resumable upload's `Location` (where a streamed mirror continues) from that header.
/// (Binding port 80 needs root or `CAP_NET_BIND_SERVICE`, as in the test container.)
async fn emulator() -> Emulator {
    let binary = std::env::var("FAKE_GCS_SERVER")
        .expect("FAKE_GCS_SERVER names the fake-gcs-server binary (scripts/test installs it)");
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("mirrors")).unwrap();
    let [_, a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
    let host = std::net::Ipv4Addr::new(127, a, b, c.max(2));
    let child = Command::new(binary)
        .args(["-scheme", "http", "-backend", "memory", "-port", "80"])
        .args(["-host", &host.to_string()])
        .args(["-data", data.path().to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fake-gcs-server starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect((host, 80)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Emulator {
        child,
        url: format!("http://{host}"),
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

/// This process's resident memory now and its peak since the last reset, in MiB (Linux).
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// How much the process's peak memory grew above its resident memory while `work` ran, in MiB.
async fn peak_growth<F: std::future::Future<Output = ()>>(work: F) -> u64 {
    // Writing 5 resets the peak (VmHWM) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let (before, _) = memory_mib();
    work.await;
    memory_mib().1.saturating_sub(before)
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_large_mirror_is_streamed_to_and_from_cloud_storage(_admin: PgPool) {
    const MIRROR_MIB: u64 = 160;
    let gcs = emulator().await;
    let store = MirrorStore::gcs("mirrors", Some(&gcs.url)).await.unwrap();
    let (tenant, repository) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let here = tempfile::tempdir().unwrap();
    let mirror = mirror_path(here.path(), tenant, repository);
    std::fs::create_dir_all(mirror.join("objects/pack")).unwrap();
    std::fs::write(mirror.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    // Real bytes (tar would store a sparse file's holes as nothing).
    let mut pack = std::fs::File::create(mirror.join("objects/pack/pack-big.pack")).unwrap();
    let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8 + 1).collect();
    for _ in 0..MIRROR_MIB {
        std::io::Write::write_all(&mut pack, &block).unwrap();
    }
    drop(block);

    let saved = peak_growth(async {
        store.save(&mirror, tenant, repository).await.unwrap();
    })
    .await;
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = mirror_path(elsewhere.path(), tenant, repository);
    let back = peak_growth(async {
        assert!(store.restore(&restored, tenant, repository).await.unwrap());
    })
    .await;
    eprintln!("a {MIRROR_MIB} MiB mirror: peak memory +{saved} MiB saving, +{back} MiB restoring");
    let size = std::fs::metadata(restored.join("objects/pack/pack-big.pack"))
        .unwrap()
        .len();
    assert_eq!(size, MIRROR_MIB << 20);
    assert!(restored.join("HEAD").exists());
    assert!(
        saved < MIRROR_MIB / 3 && back < MIRROR_MIB / 3,
        "saving grew the peak by {saved} MiB, restoring by {back} MiB"
    );
}
