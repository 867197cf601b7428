//! Who sent a delivery. A repository hook the system created (selected by `X-GitHub-Hook-ID`) must be
//! signed with one of that hook's own secrets and belongs to its repository's tenant alone; anything
//! else must be a GitHub App delivery signed with one of the App's secrets. Every failure answers the
//! same 401, so a caller learns nothing about which hooks exist.

use dashboard_shared::{Error, TenantId, crypto::webhook_secret_context};
use secrecy::SecretString;
use uuid::Uuid;

use crate::{
    AppState,
    receive::{DeliveryHeaders, Route, unavailable},
    signature,
};

/// The verified sender of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The GitHub App: the delivery is routed by the ids in its payload.
    App,
    /// A repository hook the system created: the delivery belongs to this tenant and repository.
    RepositoryHook(Route),
}

#[derive(sqlx::FromRow)]
struct HookSecrets {
    tenant_id: Uuid,
    repository_id: Uuid,
    secret_encrypted: Vec<u8>,
    previous_secret_encrypted: Option<Vec<u8>>,
}

/// Verifies the signature against the secrets the delivery's hook selects.
pub async fn sender(
    state: &AppState,
    delivery: &DeliveryHeaders,
    body: &[u8],
) -> Result<Sender, Error> {
    // App deliveries name the App's own hook, never one of ours: no look-up on their hot path.
    let hook = match delivery.target_type() {
        Some("integration") => None,
        _ => repository_hook(state, delivery.hook_id).await?,
    };
    if let Some(hook) = hook {
        let secrets = open_secrets(state, &hook)?;
        check(&secrets, body, delivery)?;
        let route = Route {
            tenant: TenantId::from_uuid(hook.tenant_id),
            repository: Some(hook.repository_id),
        };
        return Ok(Sender::RepositoryHook(route));
    }
    let from_app = matches!(delivery.target_type(), None | Some("integration"));
    if !from_app {
        tracing::warn!(delivery.id = %delivery.delivery_id, hook.id = delivery.hook_id, "delivery from an unknown hook");
        return Err(Error::Unauthorized);
    }
    check(&state.config.app_secrets, body, delivery)?;
    Ok(Sender::App)
}

fn check(secrets: &[SecretString], body: &[u8], delivery: &DeliveryHeaders) -> Result<(), Error> {
    signature::verify(secrets, body, &delivery.signature).map_err(|reason| {
        tracing::warn!(delivery.id = %delivery.delivery_id, hook.id = delivery.hook_id, ?reason, "webhook signature rejected");
        Error::Unauthorized
    })
}

async fn repository_hook(state: &AppState, hook_id: i64) -> Result<Option<HookSecrets>, Error> {
    if hook_id == 0 {
        return Ok(None);
    }
    let mut conn = state.db.without_tenant().await.map_err(unavailable)?;
    sqlx::query_as("select * from lookup.repository_hook_secrets($1)")
        .bind(hook_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(unavailable)
}

/// The hook's current and previous secret, decrypted.
fn open_secrets(state: &AppState, hook: &HookSecrets) -> Result<Vec<SecretString>, Error> {
    let Some(secret_box) = &state.config.secret_box else {
        tracing::error!(
            "a repository hook delivery arrived but SECRETS_ENCRYPTION_KEY is not configured"
        );
        return Err(unavailable(anyhow::anyhow!(
            "SECRETS_ENCRYPTION_KEY is not configured"
        )));
    };
    let context = webhook_secret_context(hook.tenant_id, hook.repository_id);
    std::iter::once(&hook.secret_encrypted)
        .chain(hook.previous_secret_encrypted.as_ref())
        .map(|sealed| {
            secret_box
                .open(sealed, &context)
                .map_err(|e| Error::Internal(e.into()))
        })
        .collect()
}
