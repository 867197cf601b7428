//! The stored webhook delivery a job reads (the claim check) and marks processed, in the job's own
//! tenant transaction. An archived (or deleted) repository ingests nothing: its deliveries are marked
//! `ignored` instead of being read.

use dashboard_shared::TenantTx;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The payload of delivery `id` about `repository`, or `None` when there is nothing to ingest: the
/// delivery no longer exists, or the repository is archived or gone (the delivery is then marked
/// `ignored`; the caller commits).
pub async fn payload<T: DeserializeOwned>(
    tx: &mut TenantTx,
    id: Uuid,
    repository: Uuid,
) -> anyhow::Result<Option<T>> {
    let tracked: Option<bool> =
        sqlx::query_scalar("select not archived from repositories where id = $1")
            .bind(repository)
            .fetch_optional(&mut **tx)
            .await?;
    if tracked != Some(true) {
        tracing::info!(delivery.id = %id, repository.id = %repository, "the repository is archived or gone; nothing is ingested");
        mark(tx, id, "ignored").await?;
        return Ok(None);
    }
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("select body from webhook_deliveries where id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    if body.is_none() {
        tracing::warn!(delivery.id = %id, "the delivery no longer exists; nothing to ingest");
    }
    body.map(|body| serde_json::from_slice(&body))
        .transpose()
        .map_err(Into::into)
}

/// Marks delivery `id` processed.
pub async fn processed(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    mark(tx, id, "processed").await
}

async fn mark(tx: &mut TenantTx, id: Uuid, status: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update webhook_deliveries set status = $2, processed_at = now() where id = $1")
        .bind(id)
        .bind(status)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
