//! Retention (`dashboard-webhook purge`, a daily Cloud Run job; daily in-process under `dashboard
//! up`): deletes done jobs and stored deliveries past [`Retention::days`], dead jobs not replayed within
//! [`Retention::dead_job_days`], and the deliveries no tenant owns beyond the newest
//! [`Retention::unrouted_kept`] of each installation, and what sign-in leaves behind once it has
//! ended (sessions, MFA steps, emailed links, provider states: migration 0029). The runtime role sees one tenant at a time, so
//! this goes through the `queue.` and `lookup.` functions of migration 0022, one bounded batch per
//! call, each in its own short transaction.

use anyhow::Context as _;
use dashboard_shared::Db;

use crate::config::Retention;

/// Rows deleted per call.
const BATCH: i32 = 5_000;
/// Calls per kind of row and run: at most a million rows each; the rest waits for the next run.
const MAX_BATCHES: usize = 200;

/// What one run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Done and dead jobs.
    pub jobs: u64,
    /// Deliveries stored for a tenant.
    pub deliveries: u64,
    /// Deliveries stored outside every tenant.
    pub unrouted: u64,
    /// Ended sessions, expired MFA steps, emailed links and provider sign-in states.
    pub sign_ins: u64,
}

/// Deletes, across tenants, everything past its retention. Jobs go first, so that the deliveries
/// whose dead jobs just went can go in the same run.
pub async fn purge(db: &Db, retention: &Retention) -> anyhow::Result<Purged> {
    let days = int(retention.days)?;
    let dead_days = int(retention.dead_job_days)?;
    let keep = int(retention.unrouted_kept)?;
    let purged = Purged {
        jobs: in_batches(db, "jobs", |limit| {
            sqlx::query_scalar("select queue.purge_jobs($1, $2, $3)")
                .bind(days)
                .bind(dead_days)
                .bind(limit)
        })
        .await?,
        deliveries: in_batches(db, "deliveries", |limit| {
            sqlx::query_scalar("select lookup.purge_deliveries($1, $2)")
                .bind(days)
                .bind(limit)
        })
        .await?,
        unrouted: in_batches(db, "unrouted deliveries", |limit| {
            sqlx::query_scalar("select lookup.purge_unrouted_deliveries($1, $2, $3)")
                .bind(days)
                .bind(keep)
                .bind(limit)
        })
        .await?,
        sign_ins: in_batches(db, "sign-in records", |limit| {
            sqlx::query_scalar("select lookup.purge_sign_in_records($1)").bind(limit)
        })
        .await?,
    };
    tracing::info!(
        jobs = purged.jobs,
        deliveries = purged.deliveries,
        unrouted = purged.unrouted,
        sign_ins = purged.sign_ins,
        retention.days = retention.days,
        retention.dead_job_days = retention.dead_job_days,
        retention.unrouted_kept = retention.unrouted_kept,
        "purged what is past its retention"
    );
    Ok(purged)
}

type Batch<'q> = sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments>;

/// Runs `batch` until one comes back short (or [`MAX_BATCHES`] ran); returns the rows deleted.
async fn in_batches(
    db: &Db,
    what: &str,
    batch: impl Fn(i32) -> Batch<'static>,
) -> anyhow::Result<u64> {
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let mut conn = db.without_tenant().await?;
        let deleted = batch(BATCH)
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("failed to purge {what}"))?;
        total += u64::try_from(deleted).unwrap_or(0);
        if deleted < i64::from(BATCH) {
            break;
        }
    }
    Ok(total)
}

fn int(value: u32) -> anyhow::Result<i32> {
    i32::try_from(value).context("a retention setting is out of range")
}
