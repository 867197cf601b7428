//! The job queue: the `jobs` table is the source of truth (a transactional outbox). A job is
//! enqueued inside the transaction of the write that causes it, so it exists exactly when that write
//! commits; workers claim it with `for update skip locked`, run it, and record done, retry (with
//! exponential backoff computed in SQL) or dead after five attempts. Delivery is at least once, so
//! every job is idempotent. A job runs as a task of its own: one that panics or times out fails that
//! attempt like an error (so a poison job ends dead, never running forever), and its work is
//! cancelled; a worker that stops anyway is started again ([`keep_running`]).
//!
//! Shape after crates.io's `crates_io_worker`: a job is a serde payload implementing [`Job`] (`KIND`,
//! `QUEUE`, dedup key), defined in [`kinds`] where producer and consumer both see it; a [`Registry`]
//! maps kinds to the consumer's handlers; [`Worker`] is the in-process `postgres` transport, woken by
//! `LISTEN/NOTIFY` with polling as the fallback.

pub mod kinds;
pub mod manage;
pub mod pubsub;
pub mod push;
mod transport;

pub use manage::{
    DeadJob, DeadJobKey, JobCounts, Replayed, count_jobs_by_repository, discard_queued_jobs,
    list_dead_jobs, replay_dead_job, sync_now,
};
pub use transport::{EnqueuedJob, JobMessage, Publisher, Transport};

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Connection as _, postgres::PgListener};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::{Db, TenantId, TenantTx, domain::JobStatus};

/// The channel workers listen on; the payload is the queue's name.
pub const NOTIFY_CHANNEL: &str = "dashboard_jobs";

/// The queues (and Pub/Sub topics): one per consuming function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Consumed by the scanner.
    Scan,
    /// Consumed by the linker.
    Link,
}

impl Queue {
    /// The name stored in `jobs.queue`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scan => "scan",
            Self::Link => "link",
        }
    }

    /// The queue named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "scan" => Some(Self::Scan),
            "link" => Some(Self::Link),
            _ => None,
        }
    }
}

/// The payload of a kind of background work: the contract between the function that enqueues it and
/// the one that runs it (which registers a handler for it in its [`Registry`]).
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with the job.
    const KIND: &'static str;
    /// The queue that carries it.
    const QUEUE: Queue;

    /// A key that makes enqueueing the same work twice a no-op while the first is pending.
    fn dedup_key(&self) -> Option<String> {
        None
    }
}

/// Enqueues `job` in the caller's tenant transaction; returns its id, or `None` when a pending job
/// with the same dedup key exists. The transaction's commit returns it for the [`Transport`] to
/// announce.
pub async fn enqueue<J: Job>(tx: &mut TenantTx, job: &J) -> Result<Option<Uuid>, sqlx::Error> {
    let payload = serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "insert into jobs (queue, kind, payload, dedup_key) values ($1, $2, $3, $4)
         on conflict (tenant_id, kind, dedup_key) where dedup_key is not null and status in ('queued', 'running')
         do nothing
         returning id",
    )
    .bind(J::QUEUE.as_str())
    .bind(J::KIND)
    .bind(payload)
    .bind(job.dedup_key())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = id {
        let tenant = tx.tenant_id();
        tx.record_enqueued(EnqueuedJob {
            tenant,
            id,
            kind: J::KIND.to_owned(),
            queue: J::QUEUE,
        });
    }
    Ok(id)
}

/// Enqueues `job` like [`enqueue`], or, when the same work is already pending (its dedup key), finds
/// that job: either way the id of a job that will do it, for the caller to poll.
pub async fn enqueue_or_find_pending<J: Job>(
    tx: &mut TenantTx,
    job: &J,
) -> Result<Uuid, sqlx::Error> {
    // The pending job may finish between the two statements: then the next insert succeeds.
    for _ in 0..3 {
        if let Some(id) = enqueue(tx, job).await? {
            return Ok(id);
        }
        let pending = sqlx::query_scalar!(
            r#"select id from jobs
               where kind = $1 and dedup_key = $2 and status in ($3, $4)"#,
            J::KIND,
            job.dedup_key(),
            JobStatus::Queued.as_str(),
            JobStatus::Running.as_str(),
        )
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = pending {
            return Ok(id);
        }
    }
    Err(sqlx::Error::Protocol(format!(
        "no {} job could be enqueued nor found pending",
        J::KIND
    )))
}

/// A job as the organization that owns it sees it (never its payload).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The job's id.
    pub id: Uuid,
    /// Its kind (`relink_organization`, `scan_repository`, …).
    pub kind: String,
    /// Where it stands.
    pub status: JobStatus,
    /// How many of its runs failed.
    pub attempts: i32,
    /// How many failed runs leave it dead.
    pub max_attempts: i32,
    /// Why its last failed run failed (kept after a later success).
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// When it runs (again), while queued.
    pub run_at: chrono::DateTime<chrono::Utc>,
}

/// The job `id` of the tenant of `tx` (row-level security hides any other's).
pub async fn find_job(tx: &mut TenantTx, id: Uuid) -> Result<Option<JobRecord>, sqlx::Error> {
    sqlx::query_as!(
        JobRecord,
        r#"select id, kind, status as "status: JobStatus", attempts, max_attempts, last_error,
                  created_at, updated_at, run_at
           from jobs where id = $1"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await
}

type Runner<C> = Arc<
    dyn Fn(
            C,
            TenantId,
            serde_json::Value,
        ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>
        + Send
        + Sync,
>;

/// The handlers one consumer runs, by kind, for one queue.
pub struct Registry<C> {
    queue: Queue,
    runners: HashMap<&'static str, Runner<C>>,
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    /// An empty registry for `queue`.
    pub fn new(queue: Queue) -> Self {
        Self {
            queue,
            runners: HashMap::new(),
        }
    }

    /// Runs `handler` for jobs of kind `J::KIND`. Handlers must be idempotent.
    pub fn register<J, F, Fut>(mut self, handler: F) -> Self
    where
        J: Job,
        F: Fn(C, TenantId, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        assert_eq!(J::QUEUE, self.queue, "{} belongs to another queue", J::KIND);
        let handler = Arc::new(handler);
        let runner: Runner<C> = Arc::new(move |ctx, tenant, payload| {
            let handler = handler.clone();
            Box::pin(async move {
                let job: J = serde_json::from_value(payload)?;
                handler(ctx, tenant, job).await
            })
        });
        self.runners.insert(J::KIND, runner);
        self
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.runners.keys().copied().collect()
    }
}

/// A claimed job as the queue functions return it.
#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    tenant_id: Uuid,
    id: Uuid,
    kind: String,
    payload: serde_json::Value,
    attempts: i32,
}

/// What happened to a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ran and succeeded.
    Done,
    /// Failed; it will run again after a backoff.
    Retry(String),
    /// Failed for the last time.
    Dead(String),
}

/// Runs jobs of one queue with the handlers of a [`Registry`].
pub struct Worker<C> {
    db: Db,
    registry: Registry<C>,
    context: C,
    /// Longest a job may run before it counts as failed.
    pub job_timeout: Duration,
    /// How often an idle worker looks for work without being notified.
    pub poll_interval: Duration,
}

impl<C: Clone + Send + Sync + 'static> Worker<C> {
    /// A worker over `registry`, giving handlers `context`.
    pub fn new(db: Db, registry: Registry<C>, context: C) -> Self {
        Self {
            db,
            registry,
            context,
            job_timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
        }
    }

    /// Claims and runs the next runnable job; `None` when there is none.
    pub async fn run_next(&self) -> anyhow::Result<Option<Outcome>> {
        let kinds = self.registry.kinds();
        let claim = sqlx::query_as("select * from queue.lock_next($1, $2)")
            .bind(self.registry.queue.as_str())
            .bind(kinds);
        self.claim_and_run(claim).await
    }

    /// Claims and runs one named job (the push transport: a message names it). `None` when it is not
    /// runnable: done, dead, gone, or being run by another delivery of the same message.
    pub async fn run_job(&self, tenant: TenantId, id: Uuid) -> anyhow::Result<Option<Outcome>> {
        let claim = sqlx::query_as("select * from queue.lock_job($1, $2)")
            .bind(tenant)
            .bind(id);
        self.claim_and_run(claim).await
    }

    /// Whether a job is still waiting to run (after [`Worker::run_job`] found it not runnable).
    pub async fn is_pending(&self, tenant: TenantId, id: Uuid) -> anyhow::Result<bool> {
        let mut tx = self.db.tenant(tenant).await?;
        let status: Option<String> = sqlx::query_scalar("select status from jobs where id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        Ok(matches!(status.as_deref(), Some("queued" | "running")))
    }

    /// Runs the job `claim` locks, in the transaction that holds the lock, and records the outcome.
    async fn claim_and_run(
        &self,
        claim: sqlx::query::QueryAs<'_, sqlx::Postgres, Claimed, sqlx::postgres::PgArguments>,
    ) -> anyhow::Result<Option<Outcome>> {
        let mut conn = self.db.without_tenant().await?;
        let mut claim_tx = conn.begin().await?;
        let Some(job) = claim.fetch_optional(&mut *claim_tx).await? else {
            return Ok(None);
        };
        let outcome = self.execute(&job).await;
        let error = match &outcome {
            Ok(()) => None,
            // Storable: an error quoting hostile input must not fail the finish and so the job.
            Err(error) => Some(crate::domain::storable(&format!("{error:#}")).into_owned()),
        };
        let status: String = sqlx::query_scalar("select queue.finish($1, $2, $3)")
            .bind(job.tenant_id)
            .bind(job.id)
            .bind(&error)
            .fetch_one(&mut *claim_tx)
            .await?;
        claim_tx.commit().await?;
        Ok(Some(match (status.as_str(), error) {
            (_, None) => Outcome::Done,
            ("dead", Some(error)) => Outcome::Dead(error),
            (_, Some(error)) => Outcome::Retry(error),
        }))
    }

    async fn execute(&self, job: &Claimed) -> anyhow::Result<()> {
        let tenant = TenantId::from_uuid(job.tenant_id);
        let span = tracing::info_span!(
            "job", job.id = %job.id, job.kind = %job.kind, tenant.id = %tenant, job.attempt = job.attempts + 1
        );
        let runner = self
            .registry
            .runners
            .get(job.kind.as_str())
            .ok_or_else(|| anyhow::anyhow!("no handler for job kind {}", job.kind))?
            .clone();
        let run = runner(self.context.clone(), tenant, job.payload.clone());
        // Its own task, so that a panic is caught there, and aborted with this future (a timeout, or
        // the worker stopping): dropped at its next await, its guards stop any blocking work.
        let task = AbortOnDropHandle::new(tokio::spawn(run.instrument(span)));
        match tokio::time::timeout(self.job_timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(failed)) if failed.is_panic() => Err(anyhow::anyhow!(
                "the job panicked: {}",
                panic_message(failed.into_panic().as_ref())
            )),
            Ok(Err(failed)) => Err(anyhow::anyhow!("the job was cancelled: {failed}")),
            Err(_) => Err(anyhow::anyhow!("timed out after {:?}", self.job_timeout)),
        }
    }

    /// Runs jobs until there are none left; returns how many ran. For tests and one-off drains.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut ran = 0;
        while self.run_next().await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs forever: drain, then sleep until notified or the poll interval passes. A failure (the
    /// database unreachable, the pool closing at shutdown) waits a poll interval too, so the loop
    /// never spins and an abort always finds it waiting.
    pub async fn run(self) {
        let mut listener = self.listen().await;
        loop {
            if let Err(error) = self.drain().await {
                tracing::error!(error = format!("{error:#}"), "job worker failed; retrying");
                tokio::time::sleep(self.poll_interval).await;
                continue;
            }
            let Some(waiting) = listener.as_mut() else {
                tokio::time::sleep(self.poll_interval).await;
                continue;
            };
            if let Ok(Err(error)) = tokio::time::timeout(self.poll_interval, waiting.recv()).await {
                tracing::warn!(%error, "job notifications lost; polling until they are back");
                tokio::time::sleep(self.poll_interval).await;
                listener = self.listen().await;
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut conn = self.db.listener().await.ok()?;
        conn.listen(NOTIFY_CHANNEL).await.ok()?;
        Some(conn)
    }
}

/// What a panic said, when it said it with a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs what `start` makes (a worker's [`Worker::run`], a scheduler's loop) for ever: if it stops —
/// a panic outside any job, or it returned — it is logged and started again after `pause`.
/// Returns only when cancelled.
pub async fn keep_running<F, Fut>(name: &'static str, pause: Duration, start: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let stopped = match AbortOnDropHandle::new(tokio::spawn(start())).await {
            Ok(()) => "it returned".to_owned(),
            Err(error) if error.is_panic() => {
                format!(
                    "it panicked: {}",
                    panic_message(error.into_panic().as_ref())
                )
            }
            Err(_) => return,
        };
        tracing::error!(task = name, reason = %stopped, "a background task stopped; starting it again");
        tokio::time::sleep(pause).await;
    }
}
