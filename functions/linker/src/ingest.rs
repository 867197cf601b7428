//! Ingestion of pushed commits: the `ingest_push` job reads a stored push delivery (the claim check)
//! and hands its commits to [`commits::ingest`] (upserted by SHA, the linking of the new ones
//! enqueued), the path polled commits take too. A payload cut at GitHub's 2048 commits, or a forced
//! push, is completed from the compare API (`before...after`) as the GitHub App, with a token scoped
//! to the repository's contents. An archived repository ingests nothing. Idempotent: running it
//! twice stores nothing twice.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    TenantId, TenantTx,
    commits::{self, NewCommit, Push},
    github::{Permission, TokenScope},
    jobs::kinds::IngestPush,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{LinkerContext, delivery};

/// GitHub puts at most this many commits in a push payload.
const PAYLOAD_COMMIT_LIMIT: usize = 2048;

/// The fields of a push payload ingestion needs; anything may be missing or null.
#[derive(Debug, Deserialize)]
struct PushPayload {
    #[serde(default)]
    commits: Vec<PushedCommit>,
    #[serde(default)]
    forced: bool,
    before: Option<String>,
    after: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    repository: Option<PushRepository>,
}

#[derive(Debug, Deserialize)]
struct PushRepository {
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PushedCommit {
    id: String,
    #[serde(default)]
    message: String,
    timestamp: Option<DateTime<Utc>>,
    author: Option<Person>,
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Person {
    name: Option<String>,
    email: Option<String>,
}

impl From<PushedCommit> for NewCommit {
    fn from(c: PushedCommit) -> Self {
        let paths = c
            .added
            .into_iter()
            .chain(c.removed)
            .chain(c.modified)
            .collect();
        let (author_name, author_email) = c.author.map_or((None, None), |a| (a.name, a.email));
        Self {
            sha: c.id,
            message: c.message,
            author_name,
            author_email,
            at: c.timestamp,
            paths,
        }
    }
}

/// Runs an [`IngestPush`] job for `tenant`.
pub async fn ingest_push(
    ctx: LinkerContext,
    tenant: TenantId,
    job: IngestPush,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let payload = delivery::payload::<PushPayload>(&mut tx, job.delivery, job.repository).await?;
    let Some(payload) = payload else {
        tx.commit().await?;
        return Ok(());
    };
    let incomplete = payload.forced || payload.commits.len() >= PAYLOAD_COMMIT_LIMIT;
    let (before, after) = (payload.before.clone(), payload.after.clone());
    let branch = payload
        .git_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_owned);
    let default_branch = branch.is_some()
        && branch.as_deref()
            == payload
                .repository
                .as_ref()
                .and_then(|r| r.default_branch.as_deref());
    let mut commits: Vec<NewCommit> = payload.commits.into_iter().map(NewCommit::from).collect();
    if incomplete {
        backfill(
            &ctx,
            &mut tx,
            job.repository,
            before.as_deref(),
            after.as_deref(),
            &mut commits,
        )
        .await?;
    }
    let pushed = commits.len();
    let new = commits::ingest(
        &mut tx,
        Push {
            repository: job.repository,
            branch: branch.as_deref(),
            default_branch,
        },
        commits,
    )
    .await?;
    delivery::processed(&mut tx, job.delivery).await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(delivery.id = %job.delivery, commits.pushed = pushed, commits.new = new.len(), "push ingested");
    Ok(())
}

/// Adds the commits of `before...after` that the payload lacks, from GitHub's compare API.
async fn backfill(
    ctx: &LinkerContext,
    tx: &mut TenantTx,
    repository: Uuid,
    before: Option<&str>,
    after: Option<&str>,
    commits: &mut Vec<NewCommit>,
) -> anyhow::Result<()> {
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(());
    };
    if before.bytes().all(|b| b == b'0') {
        tracing::warn!(repository.id = %repository, "a new branch's push is incomplete; it has no base to compare with");
        return Ok(());
    }
    let Some(github) = &ctx.github else {
        tracing::warn!(repository.id = %repository, "a push is incomplete and the GitHub App is not configured; storing what the payload has");
        return Ok(());
    };
    let (full_name, installation, repo_id): (String, Option<i64>, Option<i64>) = sqlx::query_as(
        "select full_name, installation_id, provider_repo_id from repositories where id = $1",
    )
    .bind(repository)
    .fetch_one(&mut **tx)
    .await?;
    let (Some(installation), Some(repo_id)) = (installation, repo_id) else {
        tracing::warn!(repository.id = %repository, "a push is incomplete and the repository has no installation; storing what the payload has");
        return Ok(());
    };
    let scope = TokenScope::read(repo_id, &[Permission::Contents]);
    let token = github.installation_token(installation, &scope).await?;
    for commit in github.compare(&token, &full_name, before, after).await? {
        if commits.iter().any(|c| c.sha == commit.sha) {
            continue;
        }
        let author = commit.commit.author;
        commits.push(NewCommit {
            sha: commit.sha,
            message: commit.commit.message,
            author_name: author.as_ref().and_then(|a| a.name.clone()),
            author_email: author.as_ref().and_then(|a| a.email.clone()),
            at: author.and_then(|a| a.date),
            paths: Vec::new(),
        });
    }
    Ok(())
}
