//! GitHub issues and pull requests become tasks, from GitHub's own payloads: fields as GitHub sends
//! them, the newest `updated_at` winning over events that arrive late, deletions marking the task
//! removed, and each change relinking the repository.

use dashboard_linker::{LinkerContext, worker};
use dashboard_shared::{
    TenantId,
    jobs::{self, Transport, kinds::IngestIssue},
    testing,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const OPENED: &str = include_str!("data/issues.opened.payload.json");
const DELETED: &str = include_str!("data/issues.deleted.payload.json");
const PR_CLOSED: &str = include_str!("data/pull_request.closed.payload.json");

async fn deliver(admin: &PgPool, tenant: TenantId, repository: Uuid, event: &str, body: &str) {
    let delivery: Uuid = sqlx::query_scalar(
        "insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body)
         values ($1, 1, gen_random_uuid()::text, $2, $3) returning id",
    )
    .bind(tenant)
    .bind(event)
    .bind(body.as_bytes())
    .fetch_one(admin)
    .await
    .unwrap();
    let db = testing::runtime_db(admin);
    let mut tx = db.tenant(tenant).await.unwrap();
    jobs::enqueue(
        &mut tx,
        &IngestIssue {
            delivery,
            repository,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    worker(LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db),
        github: None,
        semantic: None,
    })
    .drain()
    .await
    .unwrap();
}

type TaskRow = (
    String,
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    bool,
);

async fn tasks(admin: &PgPool) -> Vec<TaskRow> {
    sqlx::query_as(
        "select source, external_key, title, status, labels, url, removed_at is not null
         from app.tasks order by source, external_key",
    )
    .fetch_all(admin)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn issues_and_pull_requests_become_tasks_and_the_newest_event_wins(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, full_name, clone_url)
         values ($1, 'github', 186853002, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git')
         returning id",
    )
    .bind(tenant)
    .fetch_one(&admin)
    .await
    .unwrap();

    deliver(&admin, tenant, repository, "issues", OPENED).await;
    let issue = (
        "github_issue".to_owned(),
        "1".to_owned(),
        "Spelling error in the README file".to_owned(),
        "open".to_owned(),
        vec!["bug".to_owned()],
        Some("https://github.com/Codertocat/Hello-World/issues/1".to_owned()),
        false,
    );
    assert_eq!(tasks(&admin).await, std::slice::from_ref(&issue));
    let created: String =
        sqlx::query_scalar("select created_at::text from app.tasks where external_key = '1'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(created, "2019-05-15 15:20:18+00");

    // The deletion (updated 2021), then the opening delivered again late (updated 2019).
    deliver(&admin, tenant, repository, "issues", DELETED).await;
    deliver(&admin, tenant, repository, "issues", OPENED).await;
    let mut removed = issue.clone();
    removed.6 = true;
    assert_eq!(
        tasks(&admin).await,
        [removed],
        "the older event changes nothing"
    );

    // A pull request closed unmerged is cancelled; a newer event saying it merged makes it done.
    deliver(&admin, tenant, repository, "pull_request", PR_CLOSED).await;
    let mut merged: Value = serde_json::from_str(PR_CLOSED).unwrap();
    merged["pull_request"]["merged_at"] = json!("2019-05-15T15:21:18Z");
    merged["pull_request"]["updated_at"] = json!("2019-05-15T15:22:00Z");
    let pr_status = || async {
        let status: String =
            sqlx::query_scalar("select status from app.tasks where source = 'github_pr'")
                .fetch_one(&admin)
                .await
                .unwrap();
        status
    };
    assert_eq!(pr_status().await, "cancelled");
    deliver(
        &admin,
        tenant,
        repository,
        "pull_request",
        &merged.to_string(),
    )
    .await;
    assert_eq!(pr_status().await, "done");

    let jobs: Vec<(String, String)> =
        sqlx::query_as("select kind, status from app.jobs order by created_at")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert!(jobs.iter().all(|(_, status)| status == "done"), "{jobs:?}");
    let relinks = jobs
        .iter()
        .filter(|(k, _)| k == "relink_repository")
        .count();
    assert_eq!(
        relinks, 4,
        "each change (not the late event) relinks: {jobs:?}"
    );
    let processed: i64 = sqlx::query_scalar(
        "select count(*) from app.webhook_deliveries where status = 'processed'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(processed, 5);
}
