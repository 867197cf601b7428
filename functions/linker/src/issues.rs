//! The `ingest_issue` job: a GitHub `issues` or `pull_request` delivery becomes a task of source
//! `github_issue` / `github_pr` (title, body, state, labels, url, created and closed times). Events
//! arrive out of order, so the newest `updated_at` wins: an older event changes nothing. Deleted and
//! transferred issues are marked removed. A merged pull request remembers its merge commit and base
//! branch, so that the references in its title and body reach that commit. A task that changed has
//! its repository relinked.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    TenantId, commits,
    domain::storable,
    jobs::{
        self,
        kinds::{IngestIssue, RelinkRepository},
    },
};
use serde::Deserialize;

use crate::{LinkerContext, delivery};

#[derive(Deserialize)]
struct Payload {
    action: Option<String>,
    issue: Option<Item>,
    pull_request: Option<Item>,
}

#[derive(Deserialize)]
struct Item {
    number: i64,
    #[serde(default)]
    title: String,
    body: Option<String>,
    state: Option<String>,
    state_reason: Option<String>,
    merged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    labels: Vec<Label>,
    html_url: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    /// Pull requests: the commit that merged it (GitHub's test merge while it is open).
    merge_commit_sha: Option<String>,
    /// Pull requests: the branch it merges into.
    base: Option<Base>,
}

#[derive(Deserialize)]
struct Base {
    #[serde(rename = "ref")]
    branch: String,
}

#[derive(Deserialize)]
struct Label {
    name: String,
}

impl Item {
    /// Our status: open; done when completed or merged; cancelled when closed otherwise.
    fn status(&self, pull_request: bool) -> &'static str {
        match (self.state.as_deref(), pull_request) {
            (Some("closed"), true) if self.merged_at.is_none() => "cancelled",
            (Some("closed"), false) if self.state_reason.as_deref() == Some("not_planned") => {
                "cancelled"
            }
            (Some("closed"), _) => "done",
            _ => "open",
        }
    }
}

/// Runs an [`IngestIssue`] job for `tenant`.
pub async fn ingest_issue(
    ctx: LinkerContext,
    tenant: TenantId,
    job: IngestIssue,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let payload = delivery::payload::<Payload>(&mut tx, job.delivery, job.repository).await?;
    let Some(payload) = payload else {
        tx.commit().await?;
        return Ok(());
    };
    let (item, source) = match (payload.pull_request, payload.issue) {
        (Some(pr), _) => (pr, "github_pr"),
        (None, Some(issue)) => (issue, "github_issue"),
        (None, None) => anyhow::bail!("the delivery holds neither an issue nor a pull request"),
    };
    let key = item.number.to_string();
    let updated = item.updated_at.unwrap_or_else(Utc::now);
    let changed = if matches!(payload.action.as_deref(), Some("deleted" | "transferred")) {
        sqlx::query(
            "update tasks set removed_at = now(), source_updated_at = $4, updated_at = now()
             where repository_id = $1 and source = $2 and external_key = $3 and removed_at is null
               and (source_updated_at is null or source_updated_at <= $4)",
        )
        .bind(job.repository)
        .bind(source)
        .bind(&key)
        .bind(updated)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0
    } else {
        let status = item.status(source == "github_pr");
        let labels: Vec<String> = item
            .labels
            .iter()
            .map(|l| storable(&l.name).into_owned())
            .collect();
        // Only a merged pull request's merge commit is in the history.
        let merge_commit = item
            .merge_commit_sha
            .filter(|sha| item.merged_at.is_some() && commits::is_sha(sha));
        let base_branch = item.base.map(|b| storable(&b.branch).into_owned());
        sqlx::query(
            "insert into tasks (repository_id, source, external_key, title, body, status, labels, url, created_at, closed_at, source_updated_at, merge_commit_sha, base_branch)
             values ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()), $10, $11, $12, $13)
             on conflict (tenant_id, repository_id, source, external_key) do update set
               title = excluded.title, body = excluded.body, status = excluded.status, labels = excluded.labels,
               url = excluded.url, created_at = excluded.created_at, closed_at = excluded.closed_at,
               source_updated_at = excluded.source_updated_at, merge_commit_sha = excluded.merge_commit_sha,
               base_branch = excluded.base_branch, removed_at = null, updated_at = now()
             where tasks.source_updated_at is null or tasks.source_updated_at <= excluded.source_updated_at",
        )
        .bind(job.repository)
        .bind(source)
        .bind(&key)
        .bind(storable(&item.title))
        .bind(item.body.as_deref().map(storable))
        .bind(status)
        .bind(&labels)
        .bind(item.html_url.as_deref().map(storable))
        .bind(item.created_at)
        .bind(item.closed_at)
        .bind(updated)
        .bind(merge_commit)
        .bind(base_branch)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0
    };
    if changed {
        jobs::enqueue(
            &mut tx,
            &RelinkRepository {
                repository: job.repository,
            },
        )
        .await?;
    }
    delivery::processed(&mut tx, job.delivery).await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(delivery.id = %job.delivery, source, number = item.number, changed, "issue ingested");
    Ok(())
}
