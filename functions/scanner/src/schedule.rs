//! The schedulers of the scanner's work, run by `dashboard up` in-process and by Cloud Scheduler on
//! Cloud Run (`dashboard-scanner poll-due`, `dashboard-scanner resync`): the polls of `git`
//! repositories as they fall due, and the daily resync of every repository (a poll for `git`
//! repositories, a scan for GitHub's, whose pushes may have been missed). Both look across tenants
//! only through `lookup` functions that return ids, then enqueue in each tenant's own transaction; a
//! job already waiting is not enqueued twice. Neither enqueues a repository that is backing off
//! after failures before its `retry_after` ([`crate::attempt`]).

use dashboard_shared::{
    Db, TenantId,
    jobs::{
        self, Transport,
        kinds::{PollRepository, ScanRepository},
    },
};
use uuid::Uuid;

/// Enqueues a poll of every `git` repository whose interval has passed since its last poll and
/// whose backoff, if it failed, is over (what
/// `dashboard up` runs every 30 seconds and `dashboard-scanner poll-due` runs from a scheduler).
/// Returns how many were enqueued; one already waiting is not enqueued twice.
pub async fn enqueue_due(db: &Db, transport: &Transport) -> anyhow::Result<usize> {
    let enqueued = enqueue_each(
        db,
        transport,
        "select tenant_id, repository_id from lookup.repositories_to_poll()",
    )
    .await?;
    if enqueued > 0 {
        tracing::info!(enqueued, "polls enqueued");
    }
    Ok(enqueued)
}

/// Enqueues the daily resync of every repository of every tenant in good standing: a poll for a
/// `git` repository, a scan for a GitHub one. Returns how many jobs were enqueued.
pub async fn enqueue_resync(db: &Db, transport: &Transport) -> anyhow::Result<usize> {
    let enqueued = enqueue_each(
        db,
        transport,
        "select tenant_id, repository_id from lookup.repositories_to_resync()",
    )
    .await?;
    tracing::info!(enqueued, "daily resync enqueued");
    Ok(enqueued)
}

/// For each (tenant, repository) `lookup` returns, in the tenant's transaction: a poll for a `git`
/// repository, a scan for a GitHub one.
async fn enqueue_each(
    db: &Db,
    transport: &Transport,
    lookup: &'static str,
) -> anyhow::Result<usize> {
    let repositories: Vec<(Uuid, Uuid)> = {
        let mut connection = db.without_tenant().await?;
        sqlx::query_as(lookup).fetch_all(&mut *connection).await?
    };
    let mut enqueued = 0;
    for (tenant, repository) in repositories {
        let mut tx = db.tenant(TenantId::from_uuid(tenant)).await?;
        let provider: Option<String> =
            sqlx::query_scalar("select provider from repositories where id = $1")
                .bind(repository)
                .fetch_optional(&mut *tx)
                .await?;
        let job = match provider.as_deref() {
            Some("git") => jobs::enqueue(&mut tx, &PollRepository { repository }).await?,
            Some(_) => {
                let scan = ScanRepository {
                    repository,
                    reason: "resync".into(),
                };
                jobs::enqueue(&mut tx, &scan).await?
            }
            None => None,
        };
        enqueued += usize::from(job.is_some());
        let jobs = tx.commit().await?;
        transport.dispatch(&jobs).await;
    }
    Ok(enqueued)
}
