//! The `scan_repository` job end to end: a real repository made with the git CLI, cloned into a
//! mirror with gix, rescanned after a new commit (a fetch, not a clone).

mod common;

use std::process::Command;

use common::{commit, git};

use dashboard_scanner::{ScannerContext, worker};
use dashboard_shared::{
    jobs::{self, Transport, kinds::ScanRepository},
    testing,
};
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_scan_job_mirrors_detects_and_stores_then_fetches_on_rescan(admin: PgPool) {
    let origin = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    git(origin.path(), &["init", "-q"]);
    commit(
        origin.path(),
        "tasklist.md",
        "---\nname: Demo\n---\n- [ ] TASK-DEMO-1 First\n",
        "plan",
    );
    commit(
        origin.path(),
        "app/package.json",
        r#"{"name": "demo-app", "version": "1.2.3"}"#,
        "app",
    );

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url, default_branch)
         values ($1, 'git', 'demo', $2, 'main') returning id",
    )
    .bind(tenant)
    .bind(origin.path().to_str().unwrap())
    .fetch_one(&admin)
    .await
    .unwrap();
    let db = testing::runtime_db(&admin);
    let ctx = ScannerContext {
        db: db.clone(),
        transport: Transport::Postgres(db.clone()),
        mirrors: mirrors.path().to_owned(),
        github: None,
        store: dashboard_scanner::mirror_store::MirrorStore::Local,
        secrets: None,
        fetch: dashboard_scanner::remote::FetchPolicy::new(
            dashboard_scanner::remote::RemotePolicy::Local,
        ),
        limits: dashboard_scanner::limits::Limits::default(),
    };
    let scan = || async {
        let mut tx = db.tenant(tenant).await.unwrap();
        jobs::enqueue(
            &mut tx,
            &ScanRepository {
                repository,
                reason: "test".into(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(worker(ctx.clone()).drain().await.unwrap(), 1);
    };

    scan().await;
    let projects: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select path, type, name from app.projects where removed_at is null order by path",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        projects,
        [
            ("".into(), "tasklist".into(), Some("Demo".into())),
            ("app".into(), "npm".into(), Some("demo-app".into()))
        ]
    );
    let status: (String, i32) =
        sqlx::query_as("select status, attempts from app.jobs where kind = 'scan_repository'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(status, ("done".into(), 0));
    assert!(
        mirrors
            .path()
            .join(tenant.to_string())
            .join(format!("{repository}.git"))
            .join("HEAD")
            .exists()
    );

    commit(
        origin.path(),
        "tasklist.md",
        "---\nname: Demo\n---\n- [x] TASK-DEMO-1 First\n- [ ] TASK-DEMO-2 Second\n",
        "more",
    );
    scan().await;
    let tasks: Vec<(String, String)> =
        sqlx::query_as("select external_key, status from app.tasks order by external_key")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        tasks,
        [
            ("TASK-DEMO-1".into(), "done".into()),
            ("TASK-DEMO-2".into(), "open".into())
        ]
    );
    let (synced, duration_ms): (String, Option<i32>) =
        sqlx::query_as("select last_synced_commit, last_scan_duration_ms from app.repositories")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(
        duration_ms.is_some_and(|ms| ms >= 0),
        "the scan's duration is kept: {duration_ms:?}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(origin.path())
        .output()
        .unwrap();
    assert_eq!(synced, String::from_utf8(head.stdout).unwrap().trim());
}
