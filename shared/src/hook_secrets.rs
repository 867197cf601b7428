//! The secrets of the repository webhooks the system creates: a fresh random secret (32 bytes) per
//! hook, sealed with the deployment key before it touches a row. Rotating keeps the previous secret
//! active, so deliveries GitHub signed before it learned the new one still verify.

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::{
    TenantTx,
    crypto::{SecretBox, random_secret, webhook_secret_context},
};

/// Bytes of randomness in a hook secret.
pub const HOOK_SECRET_BYTES: usize = 32;

/// Gives `repository` a new hook secret, keeping the current one as the previous; returns the new
/// secret, to configure on GitHub's hook. `None` when there is no such repository for the tenant.
pub async fn rotate_webhook_secret(
    tx: &mut TenantTx,
    secret_box: &SecretBox,
    repository: Uuid,
) -> Result<Option<SecretString>, sqlx::Error> {
    let secret = random_secret(HOOK_SECRET_BYTES);
    let context = webhook_secret_context(tx.tenant_id().as_uuid(), repository);
    let sealed = secret_box.seal(secret.expose_secret().as_bytes(), &context);
    let rotated = sqlx::query(
        "update repositories
         set webhook_secret_previous_encrypted = webhook_secret_encrypted,
             webhook_secret_encrypted = $2,
             updated_at = now()
         where id = $1",
    )
    .bind(repository)
    .bind(sealed)
    .execute(&mut **tx)
    .await?;
    Ok((rotated.rows_affected() == 1).then_some(secret))
}
