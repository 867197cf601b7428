//! How a committed job reaches its consumer. `postgres` (the default on one machine): after commit,
//! one `NOTIFY` per queue wakes the consumer's in-process [`Worker`](super::Worker) (sent outside the
//! enqueueing transaction, whose commit would otherwise take NOTIFY's global lock; a lost notification
//! costs at most a poll interval). `pubsub` (Cloud Run): after commit, and before the caller
//! answers (Cloud Run gives CPU only during a request), one message per job is published to the
//! queue's topic; the push subscription wakes the consumer at `POST /jobs/push`. A lost publish is
//! logged, never an error for the caller: the sweeper re-publishes jobs that stayed queued.

use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Queue;
use crate::{Db, TenantId};

/// A job that was enqueued and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueuedJob {
    /// The tenant it runs for.
    pub tenant: TenantId,
    /// `jobs.id`.
    pub id: Uuid,
    /// Its kind.
    pub kind: String,
    /// Its queue (Pub/Sub topic).
    pub queue: Queue,
}

/// The Pub/Sub message for a job: a claim check (`{"job_id": …}`) plus attributes, never the
/// payload, which stays in the `jobs` row (Pub/Sub caps messages at 10 MB; deliveries reach 25 MB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    /// The message body: `{"job_id":"<uuid>"}`.
    pub data: Vec<u8>,
    /// `tenant_id`, `kind` and `queue`.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct ClaimCheck {
    job_id: Uuid,
}

impl JobMessage {
    /// The message announcing `job`.
    pub fn for_job(job: &EnqueuedJob) -> Self {
        let data = serde_json::to_vec(&ClaimCheck { job_id: job.id }).expect("a uuid serializes");
        let attributes = BTreeMap::from([
            ("tenant_id".to_owned(), job.tenant.to_string()),
            ("kind".to_owned(), job.kind.clone()),
            ("queue".to_owned(), job.queue.as_str().to_owned()),
        ]);
        Self { data, attributes }
    }

    /// The tenant and job a received message names.
    pub fn job(&self) -> Result<(TenantId, Uuid), String> {
        let check: ClaimCheck = serde_json::from_slice(&self.data)
            .map_err(|e| format!("message data is not a job claim check: {e}"))?;
        let tenant = self
            .attributes
            .get("tenant_id")
            .and_then(|t| t.parse::<Uuid>().ok())
            .ok_or("message attribute tenant_id is missing or not a uuid")?;
        Ok((TenantId::from_uuid(tenant), check.job_id))
    }
}

/// Publishes job messages to the queue's topic (Pub/Sub in production; a recorder in tests).
pub trait Publisher: Send + Sync + 'static {
    /// Sends one message to `queue`'s topic.
    fn publish(
        &self,
        queue: Queue,
        message: JobMessage,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>>;
}

/// The configured transport.
#[derive(Clone)]
pub enum Transport {
    /// In-process workers, woken by `LISTEN/NOTIFY` on this database.
    Postgres(Db),
    /// Messages to Pub/Sub topics; consumers are woken by push subscriptions.
    PubSub(Arc<dyn Publisher>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres(_) => "Transport::Postgres",
            Self::PubSub(_) => "Transport::PubSub",
        })
    }
}

impl Transport {
    /// Announces committed jobs. Failures are logged and left to [`Transport::sweep`].
    pub async fn dispatch(&self, jobs: &[EnqueuedJob]) {
        let publisher = match self {
            Self::Postgres(db) => return notify(db, jobs).await,
            Self::PubSub(publisher) => publisher,
        };
        for job in jobs {
            if let Err(error) = publisher.publish(job.queue, JobMessage::for_job(job)).await {
                tracing::warn!(job.id = %job.id, job.kind = %job.kind, error = format!("{error:#}"), "publish failed; the sweeper will retry");
            }
        }
    }

    /// Re-publishes jobs queued for longer than `older_than` (a lost publish, or a retry whose
    /// message was dropped). Returns how many. A no-op for `postgres`, whose workers poll anyway.
    pub async fn sweep(&self, db: &Db, older_than: Duration) -> anyhow::Result<usize> {
        let Self::PubSub(_) = self else { return Ok(0) };
        let mut conn = db.without_tenant().await?;
        let stale: Vec<(Uuid, Uuid, String, String)> =
            sqlx::query_as("select tenant_id, id, kind, queue from queue.stale_jobs($1)")
                .bind(older_than.as_secs_f64())
                .fetch_all(&mut *conn)
                .await?;
        drop(conn);
        let jobs: Vec<EnqueuedJob> = stale
            .into_iter()
            .filter_map(|(tenant, id, kind, queue)| {
                Some(EnqueuedJob {
                    tenant: TenantId::from_uuid(tenant),
                    id,
                    kind,
                    queue: Queue::parse(&queue)?,
                })
            })
            .collect();
        self.dispatch(&jobs).await;
        Ok(jobs.len())
    }
}

/// One `NOTIFY` per queue that got jobs.
async fn notify(db: &Db, jobs: &[EnqueuedJob]) {
    let mut queues: Vec<&str> = jobs.iter().map(|job| job.queue.as_str()).collect();
    queues.sort_unstable();
    queues.dedup();
    if queues.is_empty() {
        return;
    }
    let notified = async {
        let mut conn = db.without_tenant().await?;
        sqlx::query("select pg_notify($1, queue) from unnest($2::text[]) as queue")
            .bind(super::NOTIFY_CHANNEL)
            .bind(&queues)
            .execute(&mut *conn)
            .await
    };
    if let Err(error) = notified.await {
        tracing::warn!(%error, "job notification failed; workers will find the jobs when they poll");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_message_is_a_claim_check_with_attributes() {
        let tenant =
            TenantId::from_uuid(Uuid::parse_str("0b9e5a5e-4f0e-4c8e-9d3a-2f6c1c1f7a10").unwrap());
        let id = Uuid::parse_str("6f1c2d3e-0000-4000-8000-00000000abcd").unwrap();
        let job = EnqueuedJob {
            tenant,
            id,
            kind: "ingest_push".into(),
            queue: Queue::Link,
        };
        let message = JobMessage::for_job(&job);
        // The wire format consumers and the sweeper rely on: exactly this, nothing of the payload.
        assert_eq!(
            String::from_utf8(message.data.clone()).unwrap(),
            r#"{"job_id":"6f1c2d3e-0000-4000-8000-00000000abcd"}"#
        );
        let attributes: Vec<(&str, &str)> = message
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            attributes,
            [
                ("kind", "ingest_push"),
                ("queue", "link"),
                ("tenant_id", "0b9e5a5e-4f0e-4c8e-9d3a-2f6c1c1f7a10")
            ]
        );
        assert_eq!(message.job(), Ok((tenant, id)));
    }

    #[test]
    fn a_message_without_a_tenant_or_job_is_refused() {
        let no_tenant = JobMessage {
            data: br#"{"job_id":"6f1c2d3e-0000-4000-8000-00000000abcd"}"#.to_vec(),
            attributes: BTreeMap::new(),
        };
        assert!(no_tenant.job().unwrap_err().contains("tenant_id"));
        let not_a_job = JobMessage {
            data: b"hello".to_vec(),
            attributes: BTreeMap::new(),
        };
        assert!(not_a_job.job().unwrap_err().contains("claim check"));
    }
}
