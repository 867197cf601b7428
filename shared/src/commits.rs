//! Storing commits, whatever brought them: a GitHub push delivery (the linker's `ingest_push`) or a
//! poll of a plain git remote (the scanner's `poll_repository`). One code path: commits are upserted
//! by SHA (the same commit arrives again from other branches), a commit reaching the default branch
//! only now is marked so, and the linking of what is new is enqueued in the same transaction.
//! Idempotent: the same commits twice store and link nothing twice.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    TenantTx,
    domain::make_storable,
    jobs::{self, kinds::LinkCommits},
};

/// A commit to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCommit {
    /// The full SHA-1 or SHA-256, lower-case hex (anything else is skipped).
    pub sha: String,
    /// The whole message.
    pub message: String,
    /// The author's name.
    pub author_name: Option<String>,
    /// The author's e-mail address.
    pub author_email: Option<String>,
    /// When it was made.
    pub at: Option<DateTime<Utc>>,
    /// The paths it added, removed or modified.
    pub paths: Vec<String>,
}

/// Where commits were pushed (or found by a poll).
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// The repository.
    pub repository: Uuid,
    /// The branch, when known (its name may reference a task).
    pub branch: Option<&'a str>,
    /// Whether that is the repository's default branch: closing references then close.
    pub default_branch: bool,
}

/// Stores `commits` pushed as `push` says and enqueues the linking of those new (or new to the
/// default branch). Returns their ids. NUL characters are dropped from their text (PostgreSQL
/// refuses them; one hostile commit must not stop a repository's ingestion).
pub async fn ingest(
    tx: &mut TenantTx,
    push: Push<'_>,
    mut commits: Vec<NewCommit>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    // One row per commit (an upsert may not touch a row twice in one statement).
    let mut seen = HashSet::new();
    commits.retain(|c| is_sha(&c.sha) && seen.insert(c.sha.clone()));
    for commit in &mut commits {
        make_storable(&mut commit.message);
        commit.author_name.iter_mut().for_each(make_storable);
        commit.author_email.iter_mut().for_each(make_storable);
        commit.paths.iter_mut().for_each(make_storable);
    }
    let new = store(tx, push, &commits).await?;
    if !new.is_empty() {
        jobs::enqueue(
            tx,
            &LinkCommits {
                repository: push.repository,
                commits: new.clone(),
                branch: push.branch.map(str::to_owned),
            },
        )
        .await?;
    }
    Ok(new)
}

/// Upserts `commits`; returns the ids of those not stored before, and, for a push to the default
/// branch, of those that reach it only now (first pushed to another branch).
async fn store(
    tx: &mut TenantTx,
    push: Push<'_>,
    commits: &[NewCommit],
) -> Result<Vec<Uuid>, sqlx::Error> {
    let shas: Vec<&str> = commits.iter().map(|c| c.sha.as_str()).collect();
    let messages: Vec<&str> = commits.iter().map(|c| c.message.as_str()).collect();
    let names: Vec<Option<&str>> = commits.iter().map(|c| c.author_name.as_deref()).collect();
    let emails: Vec<Option<&str>> = commits.iter().map(|c| c.author_email.as_deref()).collect();
    let times: Vec<Option<DateTime<Utc>>> = commits.iter().map(|c| c.at).collect();
    // Postgres has no ragged arrays: changed paths travel as one JSON array per commit.
    let paths: Vec<serde_json::Value> =
        commits.iter().map(|c| serde_json::json!(c.paths)).collect();
    sqlx::query_scalar(
        "insert into commits (repository_id, sha, message, author_name, author_email, authored_at, committed_at, changed_paths, on_default_branch)
         select $1, sha, message, name, email, at, at, array(select jsonb_array_elements_text(paths)), $8
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])
              as c (sha, message, name, email, at, paths)
         on conflict (tenant_id, repository_id, sha) do update set on_default_branch = true
           where excluded.on_default_branch and not commits.on_default_branch
         returning id",
    )
    .bind(push.repository)
    .bind(&shas)
    .bind(&messages)
    .bind(&names)
    .bind(&emails)
    .bind(&times)
    .bind(&paths)
    .bind(push.default_branch)
    .fetch_all(&mut **tx)
    .await
}

/// A full lower-case SHA-1 or SHA-256.
pub fn is_sha(id: &str) -> bool {
    matches!(id.len(), 40 | 64)
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}
