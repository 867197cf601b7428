//! Ingestion of pushed commits: the `ingest_push` job reads a stored push delivery (the claim check),
//! upserts its commits by SHA (the same commit arrives again from other branches) and enqueues the
//! linking of the new ones. Idempotent: running it twice stores nothing twice.

use chrono::{DateTime, FixedOffset};
use dashboard_shared::{
    TenantId,
    jobs::{
        self,
        kinds::{IngestPush, LinkCommits},
    },
};
use serde::Deserialize;
use uuid::Uuid;

use crate::LinkerContext;

/// The fields of a push payload ingestion needs; anything may be missing or null.
#[derive(Debug, Deserialize)]
struct PushPayload {
    #[serde(default)]
    commits: Vec<PushedCommit>,
}

#[derive(Debug, Deserialize)]
struct PushedCommit {
    id: String,
    #[serde(default)]
    message: String,
    timestamp: Option<DateTime<FixedOffset>>,
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

/// Runs an [`IngestPush`] job for `tenant`.
pub async fn ingest_push(
    ctx: LinkerContext,
    tenant: TenantId,
    job: IngestPush,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("select body from webhook_deliveries where id = $1")
            .bind(job.delivery)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(body) = body else {
        tracing::warn!(delivery.id = %job.delivery, "push delivery no longer exists; nothing to ingest");
        return Ok(());
    };
    let payload: PushPayload = serde_json::from_slice(&body)?;
    let commits: Vec<&PushedCommit> = payload.commits.iter().filter(|c| is_sha(&c.id)).collect();
    let shas: Vec<&str> = commits.iter().map(|c| c.id.as_str()).collect();
    let messages: Vec<&str> = commits.iter().map(|c| c.message.as_str()).collect();
    let names: Vec<Option<&str>> = commits
        .iter()
        .map(|c| c.author.as_ref().and_then(|a| a.name.as_deref()))
        .collect();
    let emails: Vec<Option<&str>> = commits
        .iter()
        .map(|c| c.author.as_ref().and_then(|a| a.email.as_deref()))
        .collect();
    let times: Vec<Option<DateTime<FixedOffset>>> = commits.iter().map(|c| c.timestamp).collect();
    // Postgres has no ragged arrays: changed paths travel as one JSON array per commit.
    let paths: Vec<serde_json::Value> = commits
        .iter()
        .map(|c| {
            serde_json::json!(
                c.added
                    .iter()
                    .chain(&c.removed)
                    .chain(&c.modified)
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    let new: Vec<Uuid> = sqlx::query_scalar(
        "insert into commits (repository_id, sha, message, author_name, author_email, authored_at, committed_at, changed_paths)
         select $1, sha, message, name, email, at, at,
                array(select jsonb_array_elements_text(paths))
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])
              as c (sha, message, name, email, at, paths)
         on conflict (tenant_id, repository_id, sha) do nothing
         returning id",
    )
    .bind(job.repository)
    .bind(&shas)
    .bind(&messages)
    .bind(&names)
    .bind(&emails)
    .bind(&times)
    .bind(&paths)
    .fetch_all(&mut *tx)
    .await?;
    if !new.is_empty() {
        jobs::enqueue(
            &mut tx,
            &LinkCommits {
                repository: job.repository,
                commits: new.clone(),
            },
        )
        .await?;
    }
    sqlx::query(
        "update webhook_deliveries set status = 'processed', processed_at = now() where id = $1",
    )
    .bind(job.delivery)
    .execute(&mut *tx)
    .await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(delivery.id = %job.delivery, commits.pushed = shas.len(), commits.new = new.len(), "push ingested");
    Ok(())
}

fn is_sha(id: &str) -> bool {
    matches!(id.len(), 40 | 64)
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}
