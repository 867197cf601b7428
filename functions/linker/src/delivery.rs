//! The stored webhook delivery a job reads (the claim check) and marks processed, in the job's own
//! tenant transaction.

use dashboard_shared::TenantTx;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The payload of delivery `id`, or `None` when it no longer exists (nothing to do then).
pub async fn payload<T: DeserializeOwned>(
    tx: &mut TenantTx,
    id: Uuid,
) -> anyhow::Result<Option<T>> {
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("select body from webhook_deliveries where id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    body.map(|body| serde_json::from_slice(&body))
        .transpose()
        .map_err(Into::into)
}

/// Marks delivery `id` processed.
pub async fn processed(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update webhook_deliveries set status = 'processed', processed_at = now() where id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
