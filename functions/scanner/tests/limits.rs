//! Repositories that cannot stop ingestion nor overrun it, through the real job queue on real
//! PostgreSQL and real git repositories: a repository whose remote is gone backs off (the schedulers
//! skip it until its next attempt, the wait doubling) and a success clears its error; an attempt
//! meeting another on the same mirror is refused and retried, not run beside it; a poll takes at
//! most its commit cap, oldest first, and the rest on the next polls; a scan stores at most the
//! plan's `max_projects` and says so.

mod common;

use common::{add_repository, commit, context, git, scan};
use dashboard_scanner::{
    ScannerContext, attempt,
    mirror::mirror_path,
    schedule::{enqueue_due, enqueue_resync},
};
use dashboard_shared::{
    TenantId,
    jobs::{self, Outcome, kinds::PollRepository},
    testing,
};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The repository's backoff state: consecutive failures, last error, seconds from its last failure
/// to its next attempt.
async fn backoff(admin: &PgPool, repository: Uuid) -> (i32, Option<String>, Option<f64>) {
    sqlx::query_as(
        "select consecutive_failures, last_error,
                extract(epoch from retry_after - last_failed_at)::float8
         from app.repositories where id = $1",
    )
    .bind(repository)
    .fetch_one(admin)
    .await
    .unwrap()
}

/// Makes every waiting job runnable now, and `attempts` its last (as when its retries ran out).
async fn run_now(admin: &PgPool, last_attempt: bool) {
    sqlx::query(
        "update app.jobs set run_at = now(),
           max_attempts = case when $1 then attempts + 1 else max_attempts end
         where status = 'queued'",
    )
    .bind(last_attempt)
    .execute(admin)
    .await
    .unwrap();
}

async fn enqueue_poll(ctx: &ScannerContext, tenant: TenantId, repository: Uuid) {
    let mut tx = ctx.db.tenant(tenant).await.unwrap();
    jobs::enqueue(&mut tx, &PollRepository { repository })
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn count(admin: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(admin).await.unwrap()
}

/// A repository with one commit on `main`.
fn origin() -> tempfile::TempDir {
    let origin = tempfile::tempdir().unwrap();
    git(origin.path(), &["init", "-q"]);
    commit(
        origin.path(),
        "package.json",
        r#"{"name": "app", "version": "1.0.0"}"#,
        "Start",
    );
    origin
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_repository_whose_remote_is_gone_backs_off_and_a_success_clears_it(admin: PgPool) {
    let (origin, mirrors) = (origin(), tempfile::tempdir().unwrap());
    let gone = origin.path().join("gone");
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, gone.to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());
    let worker = dashboard_scanner::worker(ctx.clone());

    // The first poll fails for good: the error is kept, the next attempt is a minute away.
    assert_eq!(enqueue_due(&ctx.db, &ctx.transport).await.unwrap(), 1);
    run_now(&admin, true).await;
    assert!(matches!(
        worker.run_next().await.unwrap(),
        Some(Outcome::Dead(_))
    ));
    let (failures, error, wait) = backoff(&admin, repository).await;
    assert_eq!((failures, wait), (1, Some(60.0)));
    assert!(error.is_some_and(|e| !e.is_empty()));
    assert_eq!(
        enqueue_due(&ctx.db, &ctx.transport).await.unwrap(),
        0,
        "not polled again before its backoff"
    );
    assert_eq!(enqueue_resync(&ctx.db, &ctx.transport).await.unwrap(), 0);

    // Once the wait is over it is polled again, fails again, and waits twice as long.
    let pass_time = "update app.repositories set retry_after = now() - interval '1 second'";
    sqlx::query(pass_time).execute(&admin).await.unwrap();
    assert_eq!(enqueue_due(&ctx.db, &ctx.transport).await.unwrap(), 1);
    run_now(&admin, true).await;
    assert!(matches!(
        worker.run_next().await.unwrap(),
        Some(Outcome::Dead(_))
    ));
    assert_eq!(backoff(&admin, repository).await.0, 2);
    assert_eq!(backoff(&admin, repository).await.2, Some(120.0));

    // The remote is back: the next poll succeeds and clears the failure.
    sqlx::query(
        "update app.repositories set clone_url = $1, retry_after = now() - interval '1 second'",
    )
    .bind(origin.path().to_str().unwrap())
    .execute(&admin)
    .await
    .unwrap();
    assert_eq!(enqueue_due(&ctx.db, &ctx.transport).await.unwrap(), 1);
    worker.drain().await.unwrap();
    assert_eq!(backoff(&admin, repository).await, (0, None, None));
    assert_eq!(count(&admin, "select count(*) from app.commits").await, 1);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_attempt_on_a_mirror_another_attempt_holds_is_refused_and_retried(admin: PgPool) {
    let (origin, mirrors) = (origin(), tempfile::tempdir().unwrap());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, origin.path().to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());
    let worker = dashboard_scanner::worker(ctx.clone());

    // Another attempt (another instance) holds the mirror: a poll and a scan are refused.
    let held = attempt::lock(&ctx.db, tenant, repository).await.unwrap();
    enqueue_poll(&ctx, tenant, repository).await;
    let counts = |db: dashboard_shared::Db| async move {
        let mut tx = db.tenant(tenant).await.unwrap();
        let counts = jobs::count_jobs_by_repository(&mut tx, &[repository])
            .await
            .unwrap();
        counts.get(&repository).copied().unwrap_or_default()
    };
    let busy = counts(ctx.db.clone()).await;
    assert_eq!(
        (busy.queued, busy.running),
        (0, 1),
        "the held lock shows as the repository's running work"
    );
    let refused = |outcome: Option<Outcome>| match outcome {
        Some(Outcome::Retry(error)) => error.contains("another attempt is working on"),
        _ => false,
    };
    assert!(refused(worker.run_next().await.unwrap()));
    let mut tx = ctx.db.tenant(tenant).await.unwrap();
    let scan_job = jobs::kinds::ScanRepository {
        repository,
        reason: "test".into(),
    };
    jobs::enqueue(&mut tx, &scan_job).await.unwrap();
    tx.commit().await.unwrap();
    run_now(&admin, false).await;
    assert!(refused(worker.run_next().await.unwrap()));
    assert!(refused(worker.run_next().await.unwrap()));
    assert!(
        !mirror_path(mirrors.path(), tenant.as_uuid(), repository).exists(),
        "the refused attempts did not touch the mirror"
    );
    assert_eq!(
        backoff(&admin, repository).await,
        (0, None, None),
        "a refusal is not a failure of the repository"
    );

    // Released: both run, once each, and release the lock in turn.
    held.release().await;
    run_now(&admin, false).await;
    worker.drain().await.unwrap();
    let unfinished: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select kind, status, last_error from app.jobs where queue = 'scan' and status <> 'done'",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(unfinished.is_empty(), "{unfinished:?}");
    assert_eq!(count(&admin, "select count(*) from app.commits").await, 1);
    assert_eq!(count(&admin, "select count(*) from app.projects").await, 1);
    assert_eq!(
        counts(ctx.db.clone()).await.running,
        0,
        "nothing runs on it any more (its commits wait for the linker)"
    );
    let again = attempt::lock(&ctx.db, tenant, repository).await;
    assert!(again.is_ok(), "the jobs released the lock");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_mirror_lock_is_held_while_any_part_of_its_attempt_holds_it(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let (repository, other) = (Uuid::new_v4(), Uuid::new_v4());
    let db = testing::runtime_db(&admin);
    let lock = attempt::lock(&db, tenant, repository).await.unwrap();
    // The blocking fetch's clone outlives the job (a job that timed out).
    let blocking = lock.clone();
    lock.release().await;
    let refused = attempt::lock(&db, tenant, repository).await.unwrap_err();
    assert!(refused.to_string().contains("another attempt"), "{refused}");
    let beside = attempt::lock(&db, tenant, other).await;
    assert!(beside.is_ok(), "another repository is not held up");
    blocking.release().await;
    assert!(attempt::lock(&db, tenant, repository).await.is_ok());
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_poll_takes_at_most_its_commit_cap_and_the_rest_on_the_next_polls(admin: PgPool) {
    // main: start, a1, a2, then a merge of side (s1, s2, branched from start) and a3: 7 commits.
    let (origin, mirrors) = (origin(), tempfile::tempdir().unwrap());
    let work = origin.path();
    git(work, &["branch", "side"]);
    for n in 1..=2 {
        commit(work, "main.txt", &format!("{n}"), &format!("a{n}"));
    }
    git(work, &["checkout", "-q", "side"]);
    for n in 1..=2 {
        commit(work, "side.txt", &format!("{n}"), &format!("s{n}"));
    }
    git(work, &["checkout", "-q", "main"]);
    commit(work, "main.txt", "3", "a3");
    git(
        work,
        &["merge", "-q", "--no-ff", "-m", "merge side", "side"],
    );
    git(work, &["branch", "-D", "side"]);
    let head = git(work, &["rev-parse", "HEAD"]);

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, work.to_str().unwrap()).await;
    let mut ctx = context(&admin, mirrors.path());
    ctx.limits.max_commits_per_poll = 3;
    let mut taken = Vec::new();
    for _ in 0..5 {
        enqueue_poll(&ctx, tenant, repository).await;
        dashboard_scanner::worker(ctx.clone())
            .drain()
            .await
            .unwrap();
        let (heads, polled, incomplete): (Value, bool, bool) = sqlx::query_as(
            "select branch_heads, last_polled_at is not null, history_incomplete
             from app.repositories",
        )
        .fetch_one(&admin)
        .await
        .unwrap();
        // The sync health's backfill: incomplete exactly while a poll was cut short.
        assert_eq!(incomplete, !polled, "{heads}");
        let stored: Vec<String> = sqlx::query_scalar("select sha from app.commits")
            .fetch_all(&admin)
            .await
            .unwrap();
        // Every stored commit's parents are stored, the stored head's among them.
        for sha in &stored {
            for parent in git(work, &["rev-parse", &format!("{sha}^@")]).lines() {
                assert!(
                    stored.iter().any(|s| s == parent),
                    "{sha}'s parent {parent}"
                );
            }
        }
        assert!(
            stored.iter().any(|s| heads["main"] == s.as_str()),
            "{heads}"
        );
        taken.push((stored.len(), polled));
        if heads["main"] == head.as_str() {
            break;
        }
    }
    // At most 3 more per poll (fewer when a side branch waits for the next), due again at once
    // until the branch head is reached.
    let (last, earlier) = taken.split_last().unwrap();
    assert_eq!(*last, (7, true), "{taken:?}");
    assert!(earlier.len() >= 2, "{taken:?}");
    let mut before = 0;
    for (stored, polled) in &taken {
        assert!(*stored > before && *stored <= before + 3, "{taken:?}");
        before = *stored;
        assert_eq!(*polled, *stored == 7, "{taken:?}");
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_scan_stores_at_most_the_plans_max_projects_and_reports_the_rest(admin: PgPool) {
    let (origin, mirrors) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    git(origin.path(), &["init", "-q"]);
    for name in ["d", "b", "c", "a"] {
        let manifest = format!(r#"{{"name": "{name}", "version": "1.0.0"}}"#);
        common::write(
            origin.path(),
            &format!("{name}/package.json"),
            manifest.as_bytes(),
        );
    }
    commit(origin.path(), "README.md", "four packages\n", "Start");
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    sqlx::query("update app.tenants set max_projects = 2")
        .execute(&admin)
        .await
        .unwrap();
    let repository = add_repository(&admin, tenant, origin.path().to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());

    scan(&ctx, tenant, repository).await;
    let paths = |admin: PgPool| async move {
        let paths: Vec<String> = sqlx::query_scalar(
            "select path from app.projects where removed_at is null order by path",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        let problems: Vec<String> =
            sqlx::query_scalar("select scan_problems from app.repositories")
                .fetch_one(&admin)
                .await
                .unwrap();
        (paths, problems)
    };
    let (kept, problems) = paths(admin.clone()).await;
    assert_eq!(kept, ["", "a"], "the first two by path: the root, then a");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("5 projects found; the free plan allows 2 projects (max_projects)")
            && problems[0].ends_with("so the first 2 by path are kept"),
        "{problems:?}"
    );

    // A larger plan: the next full scan stores them all and the problem is gone.
    sqlx::query("update app.tenants set max_projects = 10")
        .execute(&admin)
        .await
        .unwrap();
    common::write(origin.path(), "e/package.json", br#"{"name": "e"}"#);
    commit(origin.path(), "README.md", "five packages\n", "More");
    scan(&ctx, tenant, repository).await;
    let (kept, problems) = paths(admin).await;
    assert_eq!(kept, ["", "a", "b", "c", "d", "e"]);
    assert!(problems.is_empty(), "{problems:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_project_limit_counts_every_repository_of_the_organization(admin: PgPool) {
    let mirrors = tempfile::tempdir().unwrap();
    let origins = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for origin in &origins {
        git(origin.path(), &["init", "-q"]);
        for name in ["a", "b"] {
            let manifest = format!(r#"{{"name": "{name}"}}"#);
            common::write(
                origin.path(),
                &format!("{name}/package.json"),
                manifest.as_bytes(),
            );
        }
        commit(origin.path(), "README.md", "two packages\n", "Start");
    }
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    sqlx::query("update app.tenants set max_projects = 4")
        .execute(&admin)
        .await
        .unwrap();
    let first = add_repository(&admin, tenant, origins[0].path().to_str().unwrap()).await;
    let second = add_repository(&admin, tenant, origins[1].path().to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());

    scan(&ctx, tenant, first).await;
    scan(&ctx, tenant, second).await;
    let stored = |repository: Uuid| {
        let admin = admin.clone();
        async move {
            let kept: i64 = sqlx::query_scalar(
                "select count(*) from app.projects where repository_id = $1 and removed_at is null",
            )
            .bind(repository)
            .fetch_one(&admin)
            .await
            .unwrap();
            let problems: Vec<String> =
                sqlx::query_scalar("select scan_problems from app.repositories where id = $1")
                    .bind(repository)
                    .fetch_one(&admin)
                    .await
                    .unwrap();
            (kept, problems)
        }
    };
    assert_eq!(stored(first).await, (3, Vec::new()), "the root and a, b");
    assert_eq!(
        stored(second).await,
        (
            1,
            vec![
                "3 projects found; the free plan allows 4 projects (max_projects) and 3 are \
                 stored for other repositories, so the first 1 by path are kept"
                    .to_owned()
            ]
        )
    );
    let mut tx = ctx.db.tenant(tenant).await.unwrap();
    let usage = dashboard_shared::plan::plan_usage(&mut tx).await.unwrap();
    assert_eq!((usage.usage.projects, usage.limits.projects), (4, 4));
}
