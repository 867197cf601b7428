//! Migrations that change existing rows, on a database that has them. 0020: an installation id one
//! tenant uses becomes that tenant's installation; one several tenants use is ambiguous (the flaw it
//! closes), so their rows are detached; a hook id several rows claim is cleared. 0023: the columns
//! 0015 and 0017 added are filled on old rows (the forced fence hid every row from those two). After
//! each, the fence is forced again. 0032: the projects of one directory (a task list beside a
//! manifest) merge into one, its tasks and their links kept.

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

/// The migration that makes one directory one project.
const ONE_PROJECT_PER_DIRECTORY: i64 = 32;

/// A project row after the merge: path, type, types, name, version, description, manifests, task
/// count, tasks done, removed, parent's path.
type MergedRow = (
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    i32,
    i32,
    bool,
    Option<String>,
);

/// A project row of the schema before one project per directory: path, type, name, version,
/// description, manifests, removed, parent (an index into the same list).
type OldProjectRow = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static [&'static str],
    bool,
    Option<usize>,
);

#[sqlx::test(migrations = false)]
async fn projects_of_one_directory_merge_into_one_without_losing_tasks_or_links(admin: PgPool) {
    MIGRATOR
        .run_to(ONE_PROJECT_PER_DIRECTORY - 1, &admin)
        .await
        .unwrap();
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository: uuid::Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url)
         values ($1, 'git', 'acme/x', '/srv/x.git') returning id",
    )
    .bind(tenant)
    .fetch_one(&admin)
    .await
    .unwrap();
    let rows: [OldProjectRow; 7] = [
        (
            "",
            "tasklist",
            Some("Plan"),
            None,
            Some("The plan"),
            &["tasklist.md"],
            false,
            None,
        ),
        (
            "",
            "npm",
            Some("app"),
            Some("1.0.0"),
            None,
            &["package.json"],
            false,
            None,
        ),
        (
            "lib",
            "cargo",
            Some("lib"),
            Some("0.1.0"),
            None,
            &["lib/Cargo.toml"],
            true,
            Some(0),
        ),
        (
            "lib",
            "tasklist",
            Some("Lib"),
            None,
            None,
            &["lib/tasklist.md"],
            false,
            Some(0),
        ),
        (
            "web",
            "npm",
            Some("web"),
            None,
            None,
            &["web/package.json"],
            false,
            Some(1),
        ),
        (
            "gone",
            "tasklist",
            Some("Gone"),
            None,
            None,
            &["gone/tasklist.md"],
            true,
            Some(0),
        ),
        (
            "gone",
            "npm",
            None,
            None,
            None,
            &["gone/package.json"],
            true,
            Some(0),
        ),
    ];
    let mut ids: Vec<uuid::Uuid> = Vec::new();
    for (path, kind, name, version, description, manifests, removed, parent) in rows {
        let id = sqlx::query_scalar(
            "insert into app.projects (tenant_id, repository_id, parent_id, path, type, name, version,
                                       description, manifests, removed_at, todo_count)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, case when $10 then now() end, 3) returning id",
        )
        .bind(tenant)
        .bind(repository)
        .bind(parent.map(|p| ids[p]))
        .bind(path)
        .bind(kind)
        .bind(name)
        .bind(version)
        .bind(description)
        .bind(manifests)
        .bind(removed)
        .fetch_one(&admin)
        .await
        .unwrap();
        ids.push(id);
    }
    let mut tasks = Vec::new();
    for (key, status) in [("TASK-P-1", "done"), ("TASK-P-2", "open")] {
        let task: uuid::Uuid = sqlx::query_scalar(
            "insert into app.tasks (tenant_id, repository_id, project_id, source, external_key, title, status)
             values ($1, $2, $3, 'tasklist', $4, 'A task', $5) returning id",
        )
        .bind(tenant)
        .bind(repository)
        .bind(ids[0])
        .bind(key)
        .bind(status)
        .fetch_one(&admin)
        .await
        .unwrap();
        tasks.push(task);
    }
    let commit: uuid::Uuid = sqlx::query_scalar(
        "insert into app.commits (tenant_id, repository_id, sha, message)
         values ($1, $2, repeat('a', 40), 'Fixes TASK-P-1') returning id",
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
    .bind(tasks[0])
    .execute(&admin)
    .await
    .unwrap();

    MIGRATOR.run(&admin).await.unwrap();

    let after: Vec<MergedRow> = sqlx::query_as(
        "select p.path, p.type, p.types, p.name, p.version, p.description, p.manifests,
                p.task_count, p.tasks_done, p.removed_at is not null, parent.path
         from app.projects p left join app.projects parent on parent.id = p.parent_id
         order by p.path",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let strings = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        after,
        [
            (
                "".into(),
                "npm".into(),
                strings(&["npm", "tasklist"]),
                some("app"),
                some("1.0.0"),
                some("The plan"),
                strings(&["package.json", "tasklist.md"]),
                2,
                1,
                false,
                None
            ),
            (
                "gone".into(),
                "npm".into(),
                strings(&["npm", "tasklist"]),
                some("Gone"),
                None,
                None,
                strings(&["gone/package.json", "gone/tasklist.md"]),
                0,
                0,
                true,
                some("")
            ),
            (
                "lib".into(),
                "tasklist".into(),
                strings(&["tasklist"]),
                some("Lib"),
                None,
                None,
                strings(&["lib/tasklist.md"]),
                0,
                0,
                false,
                some("")
            ),
            (
                "web".into(),
                "npm".into(),
                strings(&["npm"]),
                some("web"),
                None,
                None,
                strings(&["web/package.json"]),
                0,
                0,
                false,
                some("")
            ),
        ],
        "the strongest type survives, a removed row gives nothing to a live directory"
    );
    let root: uuid::Uuid = sqlx::query_scalar("select id from app.projects where path = ''")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(root, ids[1], "the npm row survives at the root");
    let kept: Vec<(String, Option<uuid::Uuid>, i64)> = sqlx::query_as(
        "select t.external_key, t.project_id,
                (select count(*) from app.commit_task_links l where l.task_id = t.id)
         from app.tasks t order by t.external_key",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        kept,
        [
            ("TASK-P-1".to_owned(), Some(root), 1),
            ("TASK-P-2".to_owned(), Some(root), 0)
        ],
        "the task list's tasks and their link moved to the directory's project"
    );
    let second = sqlx::query(
        "insert into app.projects (tenant_id, repository_id, path, type, types)
         values ($1, $2, '', 'tasklist', '{tasklist}')",
    )
    .bind(tenant)
    .bind(repository)
    .execute(&admin)
    .await;
    assert!(
        second.is_err_and(|e| e
            .to_string()
            .contains("projects_tenant_id_repository_id_path_key")),
        "a directory holds one project"
    );
    let inconsistent = sqlx::query(
        "insert into app.projects (tenant_id, repository_id, path, type, types)
         values ($1, $2, 'new', 'npm', '{tasklist,npm}')",
    )
    .bind(tenant)
    .bind(repository)
    .execute(&admin)
    .await;
    assert!(
        inconsistent.is_err_and(|e| e.to_string().contains("projects_types_primary")),
        "`type` is the first of `types`"
    );
    let forced: Vec<bool> = sqlx::query_scalar(
        "select relforcerowsecurity from pg_class
         where oid in ('app.projects'::regclass, 'app.tasks'::regclass)",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(forced, [true, true], "row-level security is forced again");
}
