//! What a delivery is about and what it causes. Tenants are found by GitHub's numeric ids (never by
//! names, which change); the effects are rows and jobs written in the tenant's transaction, never a
//! call to GitHub or a scan: that is the workers' job.

use dashboard_shared::{
    Db, TenantId, TenantTx,
    jobs::{
        self,
        kinds::{IngestIssue, IngestPush, ScanRepository},
    },
};
use serde_json::Value;
use uuid::Uuid;

use crate::receive::{DeliveryHeaders, Route};

mod installation;

/// What applying a delivery did for one tenant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Jobs enqueued (work left for the workers).
    pub jobs: usize,
    /// Rows changed directly (repository renames, archiving).
    pub changes: usize,
}

impl Effect {
    /// The delivery's status: `received` while jobs are pending, `processed` when applied in full,
    /// `ignored` when it changed nothing.
    pub fn status(self) -> &'static str {
        match (self.jobs, self.changes) {
            (0, 0) => "ignored",
            (0, _) => "processed",
            _ => "received",
        }
    }
}

/// The tenants a delivery concerns. A GitHub App delivery reaches only what was connected through its
/// own `installation.id`: the repository rows attached to that installation (archived rows only for
/// the one event that can resume them, [`reaches_archived`]), else, for installation events, the
/// tenant that owns the installation. A delivery without an installation reaches nobody.
pub async fn route(
    db: &Db,
    delivery: &DeliveryHeaders,
    payload: &Value,
) -> Result<Vec<Route>, sqlx::Error> {
    let Some(installation) = payload["installation"]["id"].as_i64() else {
        return Ok(vec![]);
    };
    let mut conn = db.without_tenant().await?;
    if let Some(repo_id) = payload["repository"]["id"].as_i64() {
        let rows: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
            "select tenant_id, repository_id, archived from lookup.repositories_by_installation($1, $2)",
        )
        .bind(installation)
        .bind(repo_id)
        .fetch_all(&mut *conn)
        .await?;
        if !rows.is_empty() || !is_installation_event(&delivery.event) {
            let archived_too = reaches_archived(&delivery.event, payload);
            return Ok(rows
                .into_iter()
                .filter(|(_, _, archived)| archived_too || !archived)
                .map(|(tenant, repository, _)| Route {
                    tenant: TenantId::from_uuid(tenant),
                    repository: Some(repository),
                })
                .collect());
        }
    }
    let tenants: Vec<Uuid> =
        sqlx::query_scalar("select tenant_id from lookup.tenants_by_installation($1)")
            .bind(installation)
            .fetch_all(&mut *conn)
            .await?;
    Ok(tenants
        .into_iter()
        .map(|t| Route {
            tenant: TenantId::from_uuid(t),
            repository: None,
        })
        .collect())
}

fn is_installation_event(event: &str) -> bool {
    matches!(event, "installation" | "installation_repositories")
}

/// Archived repositories receive nothing (no pushes, issues, renames) except `repository.unarchived`,
/// the one delivery about a repository that can resume a row (one GitHub archived). The installation
/// events that resume rows (`unsuspend`, `installation_repositories.added`) reach the installation's
/// tenant, not a row.
fn reaches_archived(event: &str, payload: &Value) -> bool {
    event == "repository" && payload["action"] == "unarchived"
}

/// Writes what `event` causes for one tenant, in its transaction. A delivery about an archived
/// repository (from its own repository hook: App deliveries are not routed to one) causes nothing
/// but what [`reaches_archived`] allows.
pub async fn apply(
    tx: &mut TenantTx,
    route: &Route,
    delivery: Uuid,
    event: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    if let Some(repository) = route.repository
        && !reaches_archived(event, payload)
        && is_archived(tx, repository).await?
    {
        return Ok(Effect::default());
    }
    let action = payload["action"].as_str().unwrap_or("");
    match (event, route.repository) {
        ("push", Some(repository)) => push(tx, delivery, repository, payload).await,
        ("issues" | "pull_request", Some(repository)) => {
            let jobs = usize::from(
                jobs::enqueue(
                    tx,
                    &IngestIssue {
                        delivery,
                        repository,
                    },
                )
                .await?
                .is_some(),
            );
            Ok(Effect { jobs, changes: 0 })
        }
        ("repository", Some(repository)) => repository_event(tx, repository, action, payload).await,
        ("installation", _) => installation::event(tx, action, payload).await,
        ("installation_repositories", _) => installation::repositories(tx, action, payload).await,
        _ => Ok(Effect::default()),
    }
}

/// A push to a branch: ingest its commits; a push to the default branch also rescans. Deleted refs
/// and tags add no commits: kept, nothing more.
async fn push(
    tx: &mut TenantTx,
    delivery: Uuid,
    repository: Uuid,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let git_ref = payload["ref"].as_str().unwrap_or("");
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return Ok(Effect::default());
    };
    if payload["deleted"].as_bool() == Some(true) {
        return Ok(Effect::default());
    }
    let mut jobs = usize::from(
        jobs::enqueue(
            tx,
            &IngestPush {
                delivery,
                repository,
            },
        )
        .await?
        .is_some(),
    );
    if payload["repository"]["default_branch"].as_str() == Some(branch) {
        jobs += rescan(tx, repository, "default_branch_push").await?;
    }
    Ok(Effect { jobs, changes: 0 })
}

/// Renames, archiving and deletion keep the repository row in step; a transfer takes the repository
/// out of the account, hence out of the installation it was connected through: the row is detached.
async fn repository_event(
    tx: &mut TenantTx,
    repository: Uuid,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let repo = &payload["repository"];
    if action == "transferred" {
        let (Some(installation), Some(repo_id)) =
            (payload["installation"]["id"].as_i64(), repo["id"].as_i64())
        else {
            return Ok(Effect::default());
        };
        return installation::detach(tx, installation, &[repo_id], action).await;
    }
    let archive_reason = match action {
        "archived" => Some("archived_on_github"),
        "deleted" => Some("deleted_on_github"),
        _ => None,
    };
    let archived: Option<bool> = sqlx::query_scalar(
        "update repositories set
           full_name = coalesce($2, full_name),
           clone_url = coalesce($3, clone_url),
           default_branch = coalesce($4, default_branch),
           archived = case when $5::text is not null then true
                           when $6 and archived_reason = 'archived_on_github' then false
                           else archived end,
           archived_reason = case when $5::text is not null then $5
                                  when $6 and archived_reason = 'archived_on_github' then null
                                  else archived_reason end,
           updated_at = now()
         where id = $1
         returning archived",
    )
    .bind(repository)
    .bind(repo["full_name"].as_str())
    .bind(repo["clone_url"].as_str())
    .bind(repo["default_branch"].as_str())
    .bind(archive_reason)
    .bind(action == "unarchived")
    .fetch_optional(&mut **tx)
    .await?;
    let Some(archived) = archived else {
        return Ok(Effect::default());
    };
    let jobs = if !archived && matches!(action, "renamed" | "unarchived") {
        rescan(tx, repository, action).await?
    } else {
        0
    };
    Ok(Effect { jobs, changes: 1 })
}

async fn is_archived(tx: &mut TenantTx, repository: Uuid) -> Result<bool, sqlx::Error> {
    let archived: Option<bool> =
        sqlx::query_scalar("select archived from repositories where id = $1")
            .bind(repository)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(archived.unwrap_or(true))
}

/// Enqueues a rescan of `repository`; 1 when enqueued, 0 when one is already waiting.
async fn rescan(tx: &mut TenantTx, repository: Uuid, reason: &str) -> Result<usize, sqlx::Error> {
    let scan = ScanRepository {
        repository,
        reason: reason.into(),
    };
    Ok(usize::from(jobs::enqueue(tx, &scan).await?.is_some()))
}
