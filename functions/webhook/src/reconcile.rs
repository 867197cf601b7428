//! The reconciler (hourly; `dashboard-webhook reconcile` as a Cloud Run job, in-process under
//! `dashboard up`). GitHub never redelivers a failed delivery by itself, so this lists the App hook's
//! and every repository hook's deliveries of the last three days through GitHub's REST API and asks
//! for a new attempt of each event that never got a 2xx from us and that we never stored.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use dashboard_shared::{
    Db,
    github::{GitHubApp, HookDelivery, TokenScope},
};
use uuid::Uuid;

/// GitHub keeps deliveries for three days.
pub const WINDOW: Duration = Duration::days(3);

/// A failed event whose last attempt was a redelivery younger than this is left alone this hour.
const RECENT_REDELIVERY: Duration = Duration::minutes(55);

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Delivery attempts listed.
    pub examined: usize,
    /// Redeliveries requested.
    pub redelivered: usize,
    /// Hooks or redeliveries that failed (logged; the next run tries again).
    pub errors: usize,
}

#[derive(sqlx::FromRow)]
struct RepositoryHook {
    tenant_id: Uuid,
    repository_id: Uuid,
    full_name: String,
    hook_id: i64,
    installation_id: i64,
    provider_repo_id: i64,
}

/// Runs once over the App hook and every repository hook.
pub async fn reconcile(db: &Db, app: &GitHubApp) -> anyhow::Result<Report> {
    let since = Utc::now() - WINDOW;
    let mut report = Report::default();

    let deliveries = app.app_hook_deliveries(since).await?;
    report.examined += deliveries.len();
    for delivery in to_redeliver(db, &deliveries).await? {
        match app.redeliver_app_hook_delivery(delivery.id).await {
            Ok(()) => report.redelivered += 1,
            Err(error) => {
                report.errors += 1;
                tracing::warn!(delivery.guid = %delivery.guid, error = format!("{error:#}"), "redelivery request failed");
            }
        }
    }

    let mut conn = db.without_tenant().await?;
    let hooks: Vec<RepositoryHook> = sqlx::query_as("select * from lookup.repository_hooks()")
        .fetch_all(&mut *conn)
        .await?;
    drop(conn);
    for hook in &hooks {
        if let Err(error) = reconcile_hook(db, app, hook, since, &mut report).await {
            report.errors += 1;
            tracing::warn!(
                tenant.id = %hook.tenant_id, repository.id = %hook.repository_id, hook.id = hook.hook_id,
                error = format!("{error:#}"), "reconciling a repository hook failed"
            );
        }
    }
    tracing::info!(
        examined = report.examined,
        redelivered = report.redelivered,
        errors = report.errors,
        "reconciled webhook deliveries"
    );
    Ok(report)
}

async fn reconcile_hook(
    db: &Db,
    app: &GitHubApp,
    hook: &RepositoryHook,
    since: chrono::DateTime<Utc>,
    report: &mut Report,
) -> anyhow::Result<()> {
    // A token per hook, scoped to its repository's webhooks: no token reaches the whole installation.
    let scope = TokenScope::repository_hooks(hook.provider_repo_id);
    let token = app.installation_token(hook.installation_id, &scope).await?;
    let deliveries = app
        .repository_hook_deliveries(&token, &hook.full_name, hook.hook_id, since)
        .await?;
    report.examined += deliveries.len();
    for delivery in to_redeliver(db, &deliveries).await? {
        app.redeliver_repository_hook_delivery(&token, &hook.full_name, hook.hook_id, delivery.id)
            .await?;
        report.redelivered += 1;
    }
    Ok(())
}

/// The newest attempt of each event that no attempt delivered, that we never stored, and that was
/// not just redelivered.
async fn to_redeliver<'a>(
    db: &Db,
    deliveries: &'a [HookDelivery],
) -> anyhow::Result<Vec<&'a HookDelivery>> {
    let mut by_event: BTreeMap<&str, Vec<&HookDelivery>> = BTreeMap::new();
    for delivery in deliveries {
        by_event
            .entry(delivery.guid.as_str())
            .or_default()
            .push(delivery);
    }
    by_event.retain(|_, attempts| !attempts.iter().any(|a| a.succeeded()));
    if by_event.is_empty() {
        return Ok(Vec::new());
    }
    let guids: Vec<&str> = by_event.keys().copied().collect();
    let mut conn = db.without_tenant().await?;
    let stored: Vec<String> = sqlx::query_scalar("select * from lookup.stored_deliveries($1)")
        .bind(&guids)
        .fetch_all(&mut *conn)
        .await?;
    let recent = Utc::now() - RECENT_REDELIVERY;
    Ok(by_event
        .into_iter()
        .filter(|(guid, _)| !stored.iter().any(|s| s == guid))
        .filter_map(|(_, attempts)| attempts.into_iter().max_by_key(|a| a.delivered_at))
        .filter(|newest| !(newest.redelivery && newest.delivered_at > recent))
        .collect())
}
