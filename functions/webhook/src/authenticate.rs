//! Who sent a delivery. A repository hook the system created (selected by `X-GitHub-Hook-ID`) must be
//! signed with one of that hook's own secrets and belongs to its repository's tenant alone; anything
//! else must be a GitHub App delivery signed with one of the App's secrets. Every failure answers the
//! same 401, so a caller learns nothing about which hooks exist. The hooks' secrets come from
//! [`crate::hooks`]' cache: a delivery that cannot verify does not take a database connection.

use dashboard_shared::{Error, TenantId, crypto::webhook_secret_context};
use secrecy::SecretString;

use crate::{
    AppState,
    hooks::{Entry, HookSecrets},
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

/// Verifies the signature against the secrets the delivery's hook selects.
pub async fn sender(
    state: &AppState,
    delivery: &DeliveryHeaders,
    body: &[u8],
) -> Result<Sender, Error> {
    // App deliveries name the App's own hook, never one of ours: no look-up on their hot path.
    if delivery.hook_id != 0
        && delivery.target_type() != Some("integration")
        && let Some(route) = repository_hook(state, delivery, body).await?
    {
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

/// The route of a delivery signed by the repository hook it names; `None` when there is no such
/// hook; 401 when it is not signed with that hook's secrets.
async fn repository_hook(
    state: &AppState,
    delivery: &DeliveryHeaders,
    body: &[u8],
) -> Result<Option<Route>, Error> {
    let hooks = &state.guard.hooks;
    let entry = hooks
        .get(&state.db, delivery.hook_id)
        .await
        .map_err(unavailable)?;
    let verified = verify(state, &entry, delivery, body);
    if matches!(verified, Ok(Some(_))) {
        return verified;
    }
    match hooks
        .refresh(&state.db, delivery.hook_id, &entry)
        .await
        .map_err(unavailable)?
    {
        Some(fresh) => verify(state, &fresh, delivery, body),
        None => verified,
    }
}

/// The route of the hook `entry` holds, if the delivery is signed with its secrets.
fn verify(
    state: &AppState,
    entry: &Entry,
    delivery: &DeliveryHeaders,
    body: &[u8],
) -> Result<Option<Route>, Error> {
    let Some(hook) = &entry.hook else {
        return Ok(None);
    };
    check(&open_secrets(state, hook)?, body, delivery)?;
    Ok(Some(Route {
        tenant: TenantId::from_uuid(hook.tenant_id),
        repository: Some(hook.repository_id),
    }))
}

fn check(secrets: &[SecretString], body: &[u8], delivery: &DeliveryHeaders) -> Result<(), Error> {
    signature::verify(secrets, body, &delivery.signature).map_err(|reason| {
        tracing::warn!(delivery.id = %delivery.delivery_id, hook.id = delivery.hook_id, ?reason, "webhook signature rejected");
        Error::Unauthorized
    })
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
