//! A GitHub repository connected without the App: with a token of a person who administers it, we
//! create the repository's webhook (push, issues, pull requests; JSON; a fresh random secret) and
//! keep the repository as a `git` remote fetched with that token, polled hourly besides. The
//! secret and the token are sealed for the repository's row, where the webhook function finds the
//! secret by the hook's id. Disconnecting deletes the webhook on GitHub again
//! ([`disconnect_webhook`]).

use axum::{Json, extract::State, http::StatusCode};
use dashboard_shared::{
    Error, TenantTx,
    crypto::{SecretBox, git_credential_context, random_secret, webhook_secret_context},
    hook_secrets::HOOK_SECRET_BYTES,
    plan::{self, Limit},
};
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use super::{
    client::{self, HookDeletion},
    db::{self, HookedRepository},
    model::{ConnectedRepository, FullName, WebhookConnection},
    settings::GitHubSettings,
};
use crate::{
    AppState,
    api::Problem,
    audit,
    auth::{context::Member, oauth::transport::allowed_url},
};

/// A repository with its own webhook is polled this often too (the webhook brings pushes at once).
pub const POLL_INTERVAL_SECONDS: i32 = 3600;

/// Connects a GitHub repository without the App: creates its webhook with the token given.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/github/repositories",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = WebhookConnection,
    responses(
        (status = 201, description = "Connected: its webhook exists on GitHub, its first poll is queued", body = ConnectedRepository),
        (status = 400, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already connected; over the plan's repository limit (named); GitHub refused the webhook (its words)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`full_name` not owner/name or not shown to the token; `token` empty, refused by GitHub or not allowed to create webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "GitHub failed; the detail says how", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn connect(
    State(state): State<AppState>,
    mut member: Member,
    Json(body): Json<WebhookConnection>,
) -> Result<(StatusCode, Json<ConnectedRepository>), Error> {
    let full_name = FullName::parse("full_name", body.full_name.trim())?;
    let token = body.token.trim();
    if token.is_empty() || token.len() > 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Unprocessable(
            "token: a GitHub token is 1–1024 visible characters".into(),
        ));
    }
    let token = SecretString::from(token.to_owned());
    let github = &state.config.github;
    let repository = client::repository(github, &token, full_name.as_str()).await?;
    if !allowed_url(&repository.clone_url) {
        return Err(Error::BadGateway(
            "GitHub gave a clone URL that is not https".into(),
        ));
    }
    if db::is_connected(&mut member.tx, repository.id, &repository.clone_url).await? {
        return Err(Error::Conflict(format!(
            "{} is already connected",
            repository.full_name
        )));
    }
    plan::ensure_room(&mut member.tx, Limit::Repositories, 1).await?;
    let id = Uuid::new_v4();
    let tenant = member.org.tenant.as_uuid();
    let secret = random_secret(HOOK_SECRET_BYTES);
    let secrets: &SecretBox = &state.config.secrets;
    let secret_sealed = secrets.seal(
        secret.expose_secret().as_bytes(),
        &webhook_secret_context(tenant, id),
    );
    let token_sealed = secrets.seal(
        token.expose_secret().as_bytes(),
        &git_credential_context(tenant, id),
    );
    let hook_id = client::create_hook(github, &token, &repository.full_name, &secret).await?;
    let new = HookedRepository {
        id,
        github: &repository,
        hook_id,
        secret_sealed,
        token_sealed,
        poll_interval_seconds: POLL_INTERVAL_SECONDS,
    };
    match store(member, new).await {
        Ok(row) => {
            tracing::info!(repository.id = %row.id, hook.id = hook_id, "GitHub repository connected with its own webhook");
            Ok((StatusCode::CREATED, Json(row)))
        }
        Err(error) => {
            // Nothing of ours points at the webhook: take it back off GitHub.
            if let Err(undo) =
                client::delete_hook(github, &token, &repository.full_name, hook_id).await
            {
                tracing::warn!(hook.id = hook_id, error = %undo, "a webhook created for a connection that failed could not be deleted");
            }
            Err(error)
        }
    }
}

/// Stores the repository, records it in the audit log and commits.
async fn store(
    mut member: Member,
    new: HookedRepository<'_>,
) -> Result<ConnectedRepository, Error> {
    let full_name = new.github.full_name.clone();
    let row = db::insert_hooked_repository(&mut member.tx, new).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "github.webhook_created",
            target_type: "repository",
            target_id: row.id.to_string(),
            details: serde_json::json!({ "full_name": full_name, "hook_id": row.webhook_hook_id }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(row)
}

/// What [`disconnect_webhook`] did about the repository's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookRemoval {
    /// The repository has no webhook of ours.
    NoWebhook,
    /// GitHub deleted it.
    Deleted,
    /// GitHub no longer had it.
    AlreadyGone,
    /// GitHub refused or failed (the reason, in words): the webhook may still exist there, and its
    /// deliveries are refused once the repository is gone.
    Left(String),
}

impl WebhookRemoval {
    /// What happened to the webhook, for the audit log: `null` when there was none.
    pub fn in_words(&self) -> Option<String> {
        match self {
            Self::NoWebhook => None,
            Self::Deleted => Some("deleted on GitHub".into()),
            Self::AlreadyGone => Some("already gone from GitHub".into()),
            Self::Left(reason) => Some(format!("left on GitHub: {reason}")),
        }
    }
}

/// Deletes the webhook we created on `repository` from GitHub, with the token stored with it; call
/// it before deleting the repository's row (the repositories' disconnect does). GitHub failing is
/// not an error here: the disconnect goes on, and the outcome says what was left.
pub async fn disconnect_webhook(
    tx: &mut TenantTx,
    github: &GitHubSettings,
    secrets: &SecretBox,
    repository: Uuid,
) -> Result<WebhookRemoval, sqlx::Error> {
    let Some(hook) = db::find_repository_hook(tx, repository).await? else {
        return Ok(WebhookRemoval::NoWebhook);
    };
    let context = git_credential_context(tx.tenant_id().as_uuid(), repository);
    let Some(token) = hook
        .token_sealed
        .as_deref()
        .and_then(|sealed| secrets.open(sealed, &context).ok())
    else {
        return Ok(WebhookRemoval::Left(
            "the stored token could not be opened".into(),
        ));
    };
    let outcome = match client::delete_hook(github, &token, &hook.full_name, hook.hook_id).await {
        Ok(HookDeletion::Deleted) => WebhookRemoval::Deleted,
        Ok(HookDeletion::Gone) => WebhookRemoval::AlreadyGone,
        Err(error) => WebhookRemoval::Left(error.to_string()),
    };
    if let WebhookRemoval::Left(reason) = &outcome {
        tracing::warn!(repository.id = %repository, hook.id = hook.hook_id, reason, "the repository's webhook could not be deleted on GitHub");
    }
    Ok(outcome)
}
