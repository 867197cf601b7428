//! A scan written into the tenant's rows, then written again, then after files vanished.

use dashboard_scanner::{
    detect::{MemTree, detect},
    store::store_scan,
};
use dashboard_shared::testing;
use sqlx::PgPool;
use uuid::Uuid;

/// path, type, types, name, parent path, task count, tasks done.
type ProjectRow = (
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    i32,
    i32,
);

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn plan(with_api: bool) -> MemTree {
    let mut files = vec![
        (
            "tasklist.md",
            "---\nname: Master\nshort_name: M\n---\n# Plan\n- [x] TASK-M-1 Kick-off\n- [ ] TASK-M-2 Launch\n",
        ),
        (
            "web/tasklist.md",
            "---\nname: Web\n---\n- [x] Landing page\n- [~] Sign-up form\n  - [ ] Validation\n",
        ),
        ("web/package.json", r#"{"name": "web", "version": "0.1.0"}"#),
    ];
    if with_api {
        files.push((
            "api/tasklist.md",
            "---\nname: API\n---\n- [ ] TASK-API-1 Endpoints\n",
        ));
    }
    MemTree::of(&files)
}

async fn scan(
    admin: &PgPool,
    tenant: dashboard_shared::TenantId,
    repository: Uuid,
    tree: &MemTree,
) -> dashboard_scanner::store::Stored {
    let db = testing::runtime_db(admin);
    let mut tx = db.tenant(tenant).await.unwrap();
    let stored = store_scan(&mut tx, repository, COMMIT, tree, &detect(tree))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    stored
}

async fn repository(admin: &PgPool, tenant: dashboard_shared::TenantId) -> Uuid {
    sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url) values ($1, 'git', 'acme/plan', '/srv/plan.git') returning id",
    )
    .bind(tenant)
    .fetch_one(admin)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_scan_is_stored_idempotently_and_vanished_items_are_marked_removed(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = repository(&admin, tenant).await;

    let first = scan(&admin, tenant, repository, &plan(true)).await;
    assert_eq!(
        (
            first.projects,
            first.tasks,
            first.removed,
            first.tasks_changed
        ),
        (3, 6, 0, true)
    );
    let rows = || async {
        sqlx::query_as::<_, ProjectRow>(
            "select p.path, p.type, p.types, p.name, parent.path, p.task_count, p.tasks_done
             from app.projects p left join app.projects parent on parent.id = p.parent_id
             where p.removed_at is null order by p.path",
        )
        .fetch_all(&admin)
        .await
        .unwrap()
    };
    let tasklist = || vec!["tasklist".to_owned()];
    assert_eq!(
        rows().await,
        [
            (
                "".into(),
                "tasklist".into(),
                tasklist(),
                Some("Master".into()),
                None,
                2,
                1
            ),
            (
                "api".into(),
                "tasklist".into(),
                tasklist(),
                Some("API".into()),
                Some("".into()),
                1,
                0
            ),
            (
                "web".into(),
                "npm".into(),
                vec!["npm".into(), "tasklist".into()],
                Some("web".into()),
                Some("".into()),
                3,
                1
            ),
        ],
        "web's task list belongs to its one project"
    );
    let subtask: (String, String, Option<String>) = sqlx::query_as(
        "select t.title, t.status, t.parent_key from app.tasks t where t.title = 'Validation'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(
        (subtask.0.as_str(), subtask.1.as_str()),
        ("Validation", "open")
    );
    assert!(
        subtask.2.unwrap().starts_with("anon-"),
        "nested under the sign-up form"
    );
    let relinks: i64 =
        sqlx::query_scalar("select count(*) from app.jobs where kind = 'relink_repository'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(relinks, 1);

    let again = scan(&admin, tenant, repository, &plan(true)).await;
    assert_eq!(
        (again.removed, again.tasks_changed),
        (0, false),
        "an unchanged scan changes nothing"
    );

    let without_api = scan(&admin, tenant, repository, &plan(false)).await;
    assert_eq!(
        (without_api.removed, without_api.tasks_changed),
        (2, true),
        "the api project and its task"
    );
    let removed: Vec<(String, bool)> =
        sqlx::query_as("select path, removed_at is not null from app.projects order by path")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        removed
            .iter()
            .filter(|(_, gone)| *gone)
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        ["api"]
    );
    let back = scan(&admin, tenant, repository, &plan(true)).await;
    assert_eq!(
        (back.removed, back.tasks_changed),
        (0, true),
        "it came back"
    );
    let live: i64 =
        sqlx::query_scalar("select count(*) from app.projects where removed_at is null")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(live, 3);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_directory_keeps_its_project_and_tasks_when_its_ecosystems_change(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = repository(&admin, tenant).await;
    let web = |package: bool| {
        let mut files = vec![(
            "web/tasklist.md",
            "---\nname: Web\n---\n- [ ] TASK-W-1 Landing page\n",
        )];
        if package {
            files.push(("web/package.json", r#"{"name": "web"}"#));
        }
        MemTree::of(&files)
    };
    let project = || async {
        sqlx::query_as::<_, (Uuid, String, Vec<String>, Option<String>, i32)>(
            "select id, type, types, name, task_count from app.projects where removed_at is null",
        )
        .fetch_all(&admin)
        .await
        .unwrap()
    };
    scan(&admin, tenant, repository, &web(false)).await;
    let before = project().await;
    assert_eq!(before.len(), 1);
    let id = before[0].0;
    let task: Uuid = sqlx::query_scalar("select project_id from app.tasks")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(task, id);

    let with_package = scan(&admin, tenant, repository, &web(true)).await;
    assert_eq!(
        (
            with_package.projects,
            with_package.removed,
            with_package.tasks_changed
        ),
        (1, 0, false),
        "a package.json beside the task list adds no project"
    );
    assert_eq!(
        project().await,
        [(
            id,
            "npm".to_owned(),
            vec!["npm".to_owned(), "tasklist".to_owned()],
            Some("web".to_owned()),
            1
        )]
    );
    let again = scan(&admin, tenant, repository, &web(true)).await;
    assert_eq!((again.removed, again.tasks_changed), (0, false));

    scan(&admin, tenant, repository, &web(false)).await;
    assert_eq!(
        project().await,
        [(
            id,
            "tasklist".to_owned(),
            vec!["tasklist".to_owned()],
            Some("Web".to_owned()),
            1
        )],
        "without its package.json the directory is its task list's project again"
    );
    let all: i64 = sqlx::query_scalar("select count(*) from app.projects")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(all, 1, "no row was left behind");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_task_a_commit_closed_stays_done_until_its_checkbox_changes(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = repository(&admin, tenant).await;
    let list = |launch: &str| {
        MemTree::of(&[(
            "tasklist.md",
            format!("# Plan\n- [x] TASK-M-1 Kick-off\n- [{launch}] TASK-M-2 Launch\n").as_str(),
        )])
    };
    let status = || async {
        sqlx::query_as::<_, (String, bool)>(
            "select status, closed_at is not null from app.tasks where external_key = 'TASK-M-2'",
        )
        .fetch_one(&admin)
        .await
        .unwrap()
    };
    scan(&admin, tenant, repository, &list(" ")).await;
    assert_eq!(status().await, ("open".into(), false));

    // The linker closes it: `Fixes TASK-M-2` reached the default branch.
    sqlx::query(
        "update app.tasks set status = 'done', closed_at = now() where external_key = 'TASK-M-2'",
    )
    .execute(&admin)
    .await
    .unwrap();
    let rescan = scan(&admin, tenant, repository, &list(" ")).await;
    assert!(!rescan.tasks_changed, "the list did not change");
    assert_eq!(status().await, ("done".into(), true), "still done");

    // Someone ticks the box, then unticks it: the list speaks again.
    scan(&admin, tenant, repository, &list("x")).await;
    assert_eq!(status().await, ("done".into(), true));
    let reopened = scan(&admin, tenant, repository, &list(" ")).await;
    assert!(reopened.tasks_changed);
    assert_eq!(
        status().await,
        ("open".into(), false),
        "reopened by the list"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn manifest_and_task_list_text_with_nul_characters_is_stored_without_them(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = repository(&admin, tenant).await;
    // PostgreSQL refuses NUL in text (22021): one such manifest used to fail every scan.
    let tree = MemTree::of(&[
        (
            "package.json",
            "{\"name\": \"web\\u0000app\", \"version\": \"1.0\\u0000\", \"description\": \"A\\u0000 shop\"}",
        ),
        (
            "tasklist.md",
            "---\nname: Plan\0\n---\n- [ ] TASK-P-1 Log\0 in\n",
        ),
    ]);
    let stored = scan(&admin, tenant, repository, &tree).await;
    assert_eq!((stored.projects, stored.tasks), (1, 1));
    let npm: (String, String, String) = sqlx::query_as(
        "select name, version, description from app.projects where 'npm' = any(types)",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(npm, ("webapp".into(), "1.0".into(), "A shop".into()));
    let title: String = sqlx::query_scalar("select title from app.tasks")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(title, "Log in");
}
