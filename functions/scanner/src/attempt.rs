//! One attempt at a repository (a poll or a scan job): it holds the repository's mirror lock for as
//! long as it works on the mirror, and its outcome is recorded on the repository — a failure counts
//! towards the backoff the schedulers respect (one minute, doubling, at most a day; migration 0019)
//! and stays visible as `last_error`; a success clears it.
//!
//! The lock is a PostgreSQL advisory lock, so it holds across Cloud Run instances sharing the
//! database (and a repository's health shows it as running work, `jobs::count_jobs_by_repository`):
//! `pg_try_advisory_xact_lock` in a tenant transaction kept open while the attempt works
//! (one pooled connection per running attempt). An attempt that finds it taken fails at once with a
//! retryable error, which the queue retries with its own backoff: waiting instead would keep a
//! worker and a connection idle for as long as the other attempt fetches (minutes for a large
//! clone), and such a refusal does not count as a failure of the repository.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use dashboard_shared::{Db, TenantId, TenantTx, domain::storable};
use uuid::Uuid;

/// The longest `last_error` kept (the column's limit).
const MAX_ERROR_CHARS: usize = 2000;

/// A repository's mirror lock, held until the last clone is dropped or [`MirrorLock::release`]d.
/// Blocking work takes a clone, so a job that timed out while its fetch still runs keeps the
/// mirror locked until the fetch ends.
#[derive(Clone, Debug)]
pub struct MirrorLock {
    held: Arc<Mutex<TenantTx>>,
}

/// Takes the mirror lock of `repository`, or fails (a retryable error) when another attempt holds it.
pub async fn lock(db: &Db, tenant: TenantId, repository: Uuid) -> anyhow::Result<MirrorLock> {
    let mut tx = db.tenant(tenant).await?;
    // The key's one definition (migration 0034): the API reads held locks to show what runs.
    let taken = sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock(mirror_lock_key($1, $2)) as "taken!""#,
        tenant.as_uuid(),
        repository
    )
    .fetch_one(&mut *tx)
    .await
    .context("cannot take the repository's mirror lock")?;
    anyhow::ensure!(
        taken,
        "another attempt is working on this repository's mirror; retrying later"
    );
    Ok(MirrorLock {
        held: Arc::new(Mutex::new(tx)),
    })
}

impl MirrorLock {
    /// Releases the lock now if no other clone holds it (else when the last one is dropped).
    pub async fn release(self) {
        let Ok(held) = Arc::try_unwrap(self.held) else {
            return;
        };
        let tx = held.into_inner().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = tx.commit().await {
            tracing::warn!(error = %error, "the mirror lock's transaction did not end cleanly");
        }
    }
}

/// Records the outcome of an attempt at `repository` and returns it: a failure counts towards the
/// repository's backoff and becomes its `last_error`; a success clears both.
pub async fn finish(
    db: &Db,
    tenant: TenantId,
    repository: Uuid,
    outcome: anyhow::Result<()>,
) -> anyhow::Result<()> {
    let recorded = match &outcome {
        Ok(()) => record_success(db, tenant, repository).await,
        Err(error) => record_failure(db, tenant, repository, &format!("{error:#}")).await,
    };
    if let Err(error) = recorded {
        tracing::error!(repository.id = %repository, error = format!("{error:#}"), "the attempt's outcome was not recorded");
    }
    outcome
}

async fn record_success(db: &Db, tenant: TenantId, repository: Uuid) -> anyhow::Result<()> {
    let mut tx = db.tenant(tenant).await?;
    sqlx::query(
        "update repositories set consecutive_failures = 0, last_error = null, last_failed_at = null,
           retry_after = null
         where id = $1 and (consecutive_failures > 0 or last_error is not null)",
    )
    .bind(repository)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn record_failure(
    db: &Db,
    tenant: TenantId,
    repository: Uuid,
    error: &str,
) -> anyhow::Result<()> {
    // A hostile remote's message may carry a NUL, which would fail this very update.
    let error: String = storable(error).chars().take(MAX_ERROR_CHARS).collect();
    let mut tx = db.tenant(tenant).await?;
    let failures: Option<i32> = sqlx::query_scalar(
        "update repositories set consecutive_failures = consecutive_failures + 1,
           last_error = $2, last_failed_at = now(),
           retry_after = now() + least(interval '1 day',
                                       interval '1 minute' * power(2, least(consecutive_failures, 20)))
         where id = $1
         returning consecutive_failures",
    )
    .bind(repository)
    .bind(error)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    if let Some(failures) = failures {
        tracing::warn!(repository.id = %repository, failures, "repository attempt failed; backing off");
    }
    Ok(())
}
