//! The tenant-scoped reads the API serves and `dashboard show` prints: the tenant's totals and its
//! recent commits with their links (the project tree is `api::projects::db::project_tree`). Each runs
//! in a [`TenantTx`], so row-level security alone decides what is visible.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dashboard_shared::TenantTx;
use serde::Serialize;
use uuid::Uuid;

/// The tenant's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Totals {
    /// Connected repositories (not archived).
    pub repositories: i64,
    /// Projects found in them.
    pub projects: i64,
    /// Their tasks (task lists, issues, pull requests).
    pub tasks: i64,
    /// Of which done.
    pub tasks_done: i64,
    /// Commits stored.
    pub commits: i64,
    /// Commit–task links in force (not suggestions, not removed).
    pub links: i64,
}

/// A commit and what it is linked to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitSummary {
    /// The full SHA.
    pub sha: String,
    /// The repository (`owner/name`).
    pub repository: String,
    /// The message's first line.
    pub title: String,
    /// The author's name.
    pub author: Option<String>,
    /// When it was committed.
    pub at: DateTime<Utc>,
    /// Whether it is on the default branch.
    pub on_default_branch: bool,
    /// Its links and suggestions, strongest first (removed ones left out).
    pub links: Vec<LinkSummary>,
}

/// A commit's link to a task.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LinkSummary {
    /// `TASK-AUTH-12`, or the issue or pull request number.
    pub task: String,
    /// The task's title.
    pub title: String,
    /// `tasklist`, `github_issue`, `github_pr`.
    pub source: String,
    /// The task's status.
    pub status: String,
    /// `explicit`, `similarity`, `manual`.
    pub method: String,
    /// `closes` or `references`.
    pub relation: String,
    /// 1.0 for explicit and manual links, below for similarity.
    pub confidence: f32,
    /// `active`, or `suggested` for a person to confirm.
    pub state: String,
    #[serde(skip)]
    commit_id: Uuid,
}

/// The tenant's totals.
pub async fn totals(tx: &mut TenantTx) -> Result<Totals, sqlx::Error> {
    sqlx::query_as(
        "select
           (select count(*) from repositories where not archived) as repositories,
           (select count(*) from projects where removed_at is null) as projects,
           (select count(*) from tasks where removed_at is null) as tasks,
           (select count(*) from tasks where removed_at is null and status = 'done') as tasks_done,
           (select count(*) from commits) as commits,
           (select count(*) from commit_task_links where state = 'active') as links",
    )
    .fetch_one(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
struct CommitRow {
    id: Uuid,
    sha: String,
    repository: String,
    message: String,
    author_name: Option<String>,
    at: DateTime<Utc>,
    on_default_branch: bool,
}

/// The `limit` most recent commits of every repository, with their links.
pub async fn recent_commits(
    tx: &mut TenantTx,
    limit: i64,
) -> Result<Vec<CommitSummary>, sqlx::Error> {
    let commits: Vec<CommitRow> = sqlx::query_as(
        "select c.id, c.sha, r.full_name as repository, c.message, c.author_name,
                coalesce(c.committed_at, c.authored_at, c.created_at) as at, c.on_default_branch
         from commits c join repositories r on r.id = c.repository_id
         order by at desc, c.created_at desc, c.sha limit $1",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let ids: Vec<Uuid> = commits.iter().map(|c| c.id).collect();
    let links: Vec<LinkSummary> = sqlx::query_as(
        "select l.commit_id, t.external_key as task, t.title, t.source, t.status, l.method, l.relation,
                l.confidence, l.state
         from commit_task_links l join tasks t on t.id = l.task_id
         where l.commit_id = any($1) and l.state <> 'rejected'
         order by (l.state = 'active') desc, l.confidence desc, t.external_key",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_commit: HashMap<Uuid, Vec<LinkSummary>> = HashMap::new();
    for link in links {
        by_commit.entry(link.commit_id).or_default().push(link);
    }
    Ok(commits
        .into_iter()
        .map(|c| CommitSummary {
            links: by_commit.remove(&c.id).unwrap_or_default(),
            title: c.message.lines().next().unwrap_or_default().to_owned(),
            sha: c.sha,
            repository: c.repository,
            author: c.author_name,
            at: c.at,
            on_default_branch: c.on_default_branch,
        })
        .collect())
}
