//! Migrations that change existing rows, on a database that has them. 0020: an installation id one
//! tenant uses becomes that tenant's installation; one several tenants use is ambiguous (the flaw it
//! closes), so their rows are detached; a hook id several rows claim is cleared. 0023: the columns
//! 0015 and 0017 added are filled on old rows (the forced fence hid every row from those two). After
//! each, the fence is forced again.

use dashboard_shared::testing;
use sqlx::PgPool;

use crate::MIGRATOR;

/// The migration that adds installations.
const INSTALLATIONS: i64 = 20;

/// A repository row after the migration: tenant slug, GitHub id, installation, hook id, archived, why.
type Row = (String, i64, Option<i64>, Option<i64>, bool, Option<String>);

#[sqlx::test(migrations = false)]
async fn existing_rows_keep_an_unambiguous_installation_and_lose_an_ambiguous_one(admin: PgPool) {
    MIGRATOR.run_to(INSTALLATIONS - 1, &admin).await.unwrap();
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let b = testing::create_tenant(&admin, "tenant-b").await;
    let rows = [
        (a, 1_i64, Some(10_i64), Some(500_i64)),
        (a, 2, Some(20), None),
        (b, 2, Some(20), Some(600)),
        (b, 3, None, Some(700)),
        (a, 3, None, Some(600)),
    ];
    for (tenant, repo, installation, hook) in rows {
        sqlx::query(
            "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, webhook_hook_id, full_name, clone_url)
             values ($1, 'github', $2, $3, $4, 'acme/x', 'https://github.com/acme/x.git')",
        )
        .bind(tenant)
        .bind(repo)
        .bind(installation)
        .bind(hook)
        .execute(&admin)
        .await
        .unwrap();
    }

    MIGRATOR.run(&admin).await.unwrap();

    let installations: Vec<(uuid::Uuid, i64)> =
        sqlx::query_as("select tenant_id, installation_id from app.installations")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(installations, [(a.as_uuid(), 10)]);
    let after: Vec<Row> = sqlx::query_as(
        "select t.slug, r.provider_repo_id, r.installation_id, r.webhook_hook_id, r.archived, r.archived_reason
         from app.repositories r join app.tenants t on t.id = r.tenant_id order by 1, 2",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let detached = Some("detached".to_owned());
    assert_eq!(
        after,
        [
            ("tenant-a".into(), 1, Some(10), Some(500), false, None),
            ("tenant-a".into(), 2, None, None, true, detached.clone()),
            ("tenant-a".into(), 3, None, None, false, None),
            ("tenant-b".into(), 2, None, None, true, detached),
            ("tenant-b".into(), 3, None, Some(700), false, None),
        ]
    );
    let forced: bool = sqlx::query_scalar(
        "select relforcerowsecurity from pg_class where oid = 'app.repositories'::regclass",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(forced, "row-level security is forced again");
}

/// The last migration before the columns 0015 and 0017 added.
const BEFORE_TASK_SOURCES: i64 = 14;
/// The migration that fills what 0015 and 0017 could not.
const FILL_COLUMNS: i64 = 23;

#[sqlx::test(migrations = false)]
async fn columns_added_to_existing_rows_are_filled_despite_the_forced_fence(admin: PgPool) {
    MIGRATOR.run_to(BEFORE_TASK_SOURCES, &admin).await.unwrap();
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository: uuid::Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url)
         values ($1, 'git', 'acme/x', '/srv/x.git') returning id",
    )
    .bind(tenant)
    .fetch_one(&admin)
    .await
    .unwrap();
    let task: uuid::Uuid = sqlx::query_scalar(
        "insert into app.tasks (tenant_id, repository_id, source, external_key, title, status)
         values ($1, $2, 'tasklist', 'TASK-X-1', 'Log in', 'done') returning id",
    )
    .bind(tenant)
    .bind(repository)
    .fetch_one(&admin)
    .await
    .unwrap();
    let commit: uuid::Uuid = sqlx::query_scalar(
        "insert into app.commits (tenant_id, repository_id, sha, message, on_default_branch)
         values ($1, $2, repeat('a', 40), 'Fixes TASK-X-1', true) returning id",
    )
    .bind(tenant)
    .bind(repository)
    .fetch_one(&admin)
    .await
    .unwrap();
    sqlx::query(
        "insert into app.commit_task_links (tenant_id, commit_id, task_id, method, relation, confidence)
         values ($1, $2, $3, 'explicit', 'closes', 1)",
    )
    .bind(tenant)
    .bind(commit)
    .bind(task)
    .execute(&admin)
    .await
    .unwrap();
    let filled = || async {
        sqlx::query_as::<_, (Option<String>, bool)>(
            "select t.listed_status, l.closed_task_at is not null
             from app.tasks t join app.commit_task_links l on l.task_id = t.id",
        )
        .fetch_one(&admin)
        .await
        .unwrap()
    };

    MIGRATOR.run_to(FILL_COLUMNS - 1, &admin).await.unwrap();
    assert_eq!(filled().await, (None, false), "0015 and 0017 saw no row");
    MIGRATOR.run(&admin).await.unwrap();
    assert_eq!(filled().await, (Some("done".into()), true));
    let forced: Vec<bool> = sqlx::query_scalar(
        "select relforcerowsecurity from pg_class
         where oid in ('app.tasks'::regclass, 'app.commits'::regclass, 'app.commit_task_links'::regclass)",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        forced,
        [true, true, true],
        "row-level security is forced again"
    );
}
