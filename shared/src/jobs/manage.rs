//! What people do with jobs, through the API and the CLI: a repository's work (what is queued,
//! running or dead for it; polling or scanning it now; dropping what is queued when it is
//! disconnected), and an organization's dead jobs (listed by the time they died, replayed). Every
//! function runs in the caller's tenant transaction, so only that organization's jobs are seen.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    EnqueuedJob, Job as _, Queue, enqueue,
    kinds::{PollRepository, ScanRepository},
};
use crate::{TenantTx, domain::Provider};

/// A repository's jobs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobCounts {
    /// Waiting to run, or to be retried after a failure.
    pub queued: i64,
    /// A poll or a scan working on it now (it holds the repository's mirror lock).
    pub running: i64,
    /// Out of attempts, kept for an administrator to replay.
    pub dead: i64,
}

/// The jobs of each of `repositories` (those with none are absent). A claimed job stays `queued`
/// while it runs, so the one a poll or scan runs counts as `running` instead: it holds the
/// repository's mirror lock (`mirror_lock_key`, migration 0034), which `pg_locks` shows.
pub async fn count_jobs_by_repository(
    tx: &mut TenantTx,
    repositories: &[Uuid],
) -> Result<HashMap<Uuid, JobCounts>, sqlx::Error> {
    let keys: Vec<String> = repositories.iter().map(Uuid::to_string).collect();
    let rows = sqlx::query!(
        r#"with held as (
             select (l.classid::int8 << 32) | l.objid::int8 as key
             from pg_locks l
             where l.locktype = 'advisory' and l.granted and l.objsubid = 1
               and l.database = (select oid from pg_database where datname = current_database())
           ),
           counted as (
             select j.payload ->> 'repository' as repository,
                    count(*) filter (where j.status in ('queued', 'running')) as pending,
                    count(*) filter (where j.status = 'dead') as dead
             from jobs j
             where j.status in ('queued', 'running', 'dead')
               and j.payload ->> 'repository' = any($2::text[])
             group by 1
           )
           select r.id as "id!",
                  coalesce(c.pending, 0) as "pending!",
                  coalesce(c.dead, 0) as "dead!",
                  exists (select 1 from held
                          where held.key = mirror_lock_key($3, r.id)) as "running!"
           from unnest($1::uuid[]) as r (id)
           left join counted c on c.repository = r.id::text"#,
        repositories,
        &keys,
        tx.tenant_id().as_uuid()
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|row| row.pending > 0 || row.dead > 0 || row.running)
        .map(|row| {
            let running = i64::from(row.running);
            let counts = JobCounts {
                queued: (row.pending - running).max(0),
                running,
                dead: row.dead,
            };
            (row.id, counts)
        })
        .collect())
}

/// Enqueues the work that syncs `repository` now — a poll for a `git` remote, a scan for a GitHub
/// repository — bringing one that waits for a retry forward. Returns the job's id (the one already
/// pending when there was one; a job being run is left alone, never waited for).
pub async fn sync_now(
    tx: &mut TenantTx,
    repository: Uuid,
    provider: Provider,
) -> Result<Uuid, sqlx::Error> {
    let (kind, key) = (sync_kind(provider), repository.to_string());
    // Twice at most: a pending job found by the enqueue may finish before it is looked up.
    for _ in 0..2 {
        let enqueued = match provider {
            Provider::Git => enqueue(tx, &PollRepository { repository }).await?,
            Provider::Github => {
                let scan = ScanRepository {
                    repository,
                    reason: "sync_now".into(),
                };
                enqueue(tx, &scan).await?
            }
        };
        if let Some(id) = enqueued {
            return Ok(id);
        }
        // Only one waiting for its retry (`run_at` ahead) is moved: a running one, locked by its
        // worker, has a `run_at` already past and is not touched.
        sqlx::query!(
            "update jobs set run_at = now(), updated_at = now()
             where kind = $1 and dedup_key = $2 and status = 'queued' and run_at > now()",
            kind,
            key
        )
        .execute(&mut **tx)
        .await?;
        let pending = sqlx::query_scalar!(
            "select id from jobs where kind = $1 and dedup_key = $2 and status in ('queued', 'running')",
            kind,
            key
        )
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = pending {
            return Ok(id);
        }
    }
    Err(sqlx::Error::RowNotFound)
}

/// The kind of job that syncs a repository of `provider`.
fn sync_kind(provider: Provider) -> &'static str {
    match provider {
        Provider::Git => PollRepository::KIND,
        Provider::Github => ScanRepository::KIND,
    }
}

/// Drops the jobs still queued for `repository` (it is being disconnected: they would find
/// nothing); one being run is left to finish (never waited for), dead ones stay for the record.
/// Returns how many.
pub async fn discard_queued_jobs(tx: &mut TenantTx, repository: Uuid) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        "delete from jobs where id in (
           select id from jobs
           where payload ->> 'repository' = $1::uuid::text and status = 'queued'
           for update skip locked)",
        repository
    )
    .execute(&mut **tx)
    .await?;
    Ok(deleted.rows_affected())
}

/// A dead job, as an administrator lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadJob {
    /// The job's id.
    pub id: Uuid,
    /// Its kind: `poll_repository`, `scan_repository`, `ingest_push`, `link_commits`, …
    pub kind: String,
    /// The queue that carries it: `scan` or `link`.
    pub queue: String,
    /// The repository it was about, when it names one.
    pub repository_id: Option<Uuid>,
    /// Its payload: the ids it works on (never the data itself).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// How often it ran.
    pub attempts: i32,
    /// What its last attempt said.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it died.
    pub updated_at: DateTime<Utc>,
}

/// The sort key of the dead-job list (its cursor): when it died, then its id, newest first.
pub type DeadJobKey = (DateTime<Utc>, Uuid);

/// A page of the organization's dead jobs, newest first: at most `limit`, after `after`.
pub async fn list_dead_jobs(
    tx: &mut TenantTx,
    after: Option<DeadJobKey>,
    limit: i64,
) -> Result<Vec<DeadJob>, sqlx::Error> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        DeadJob,
        r#"select id, kind, queue, payload,
                  case when payload ->> 'repository' ~ '^[0-9a-f-]{36}$'
                       then (payload ->> 'repository')::uuid end as repository_id,
                  attempts, last_error, created_at, updated_at
           from jobs
           where status = 'dead'
             and ($1::timestamptz is null or (updated_at, id) < ($1, $2::uuid))
           order by updated_at desc, id desc
           limit $3"#,
        after_at,
        after_id,
        limit
    )
    .fetch_all(&mut **tx)
    .await
}

/// What replaying a dead job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Back in its queue with fresh attempts.
    Queued,
    /// The same work is queued already (its dedup key): the dead job stays dead.
    AlreadyPending,
    /// No dead job has this id here.
    NotFound,
}

/// Puts the dead job `id` back in its queue with fresh attempts, announced by the transaction's
/// commit like a new one.
pub async fn replay_dead_job(tx: &mut TenantTx, id: Uuid) -> Result<Replayed, sqlx::Error> {
    let dead = sqlx::query!(
        "select kind, queue, dedup_key from jobs where id = $1 and status = 'dead' for update",
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(dead) = dead else {
        return Ok(Replayed::NotFound);
    };
    if let Some(key) = &dead.dedup_key {
        let pending = sqlx::query_scalar!(
            r#"select exists (select 1 from jobs where kind = $1 and dedup_key = $2
                              and status in ('queued', 'running')) as "pending!""#,
            dead.kind,
            key
        )
        .fetch_one(&mut **tx)
        .await?;
        if pending {
            return Ok(Replayed::AlreadyPending);
        }
    }
    sqlx::query!(
        "update jobs set status = 'queued', attempts = 0, run_at = now(), updated_at = now()
         where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    if let Some(queue) = Queue::parse(&dead.queue) {
        let tenant = tx.tenant_id();
        tx.record_enqueued(EnqueuedJob {
            tenant,
            id,
            kind: dead.kind,
            queue,
        });
    }
    Ok(Replayed::Queued)
}
