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

/// The tenants a delivery concerns: those that connected its repository, else (for installation
/// events and App deliveries without a repository) those whose repositories use its installation.
pub async fn route(
    db: &Db,
    delivery: &DeliveryHeaders,
    payload: &Value,
) -> Result<Vec<Route>, sqlx::Error> {
    let mut conn = db.without_tenant().await?;
    if let Some(repo_id) = payload["repository"]["id"].as_i64() {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "select tenant_id, repository_id from lookup.repositories_by_provider_id('github', $1)",
        )
        .bind(repo_id)
        .fetch_all(&mut *conn)
        .await?;
        if !rows.is_empty() || !is_installation_event(&delivery.event) {
            return Ok(rows
                .into_iter()
                .map(|(tenant, repository)| Route {
                    tenant: TenantId::from_uuid(tenant),
                    repository: Some(repository),
                })
                .collect());
        }
    }
    let Some(installation) = payload["installation"]["id"].as_i64() else {
        return Ok(vec![]);
    };
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

/// Writes what `event` causes for one tenant, in its transaction.
pub async fn apply(
    tx: &mut TenantTx,
    route: &Route,
    delivery: Uuid,
    event: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
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
        ("installation", _) => installation_event(tx, action, payload).await,
        ("installation_repositories", _) => installation_repositories(tx, action, payload).await,
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

/// Renames, transfers, archiving and deletion keep the repository row in step.
async fn repository_event(
    tx: &mut TenantTx,
    repository: Uuid,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let repo = &payload["repository"];
    let archived = match action {
        "archived" | "deleted" => Some(true),
        "unarchived" => Some(false),
        _ => None,
    };
    let changes = sqlx::query(
        "update repositories set
           full_name = coalesce($2, full_name),
           clone_url = coalesce($3, clone_url),
           default_branch = coalesce($4, default_branch),
           archived = coalesce($5, archived),
           updated_at = now()
         where id = $1",
    )
    .bind(repository)
    .bind(repo["full_name"].as_str())
    .bind(repo["clone_url"].as_str())
    .bind(repo["default_branch"].as_str())
    .bind(archived)
    .execute(&mut **tx)
    .await?
    .rows_affected() as usize;
    let jobs = if matches!(action, "renamed" | "transferred" | "unarchived") {
        rescan(tx, repository, action).await?
    } else {
        0
    };
    Ok(Effect { jobs, changes })
}

/// The App was uninstalled or suspended (its repositories stop being tracked) or came back (rescan).
async fn installation_event(
    tx: &mut TenantTx,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let Some(installation) = payload["installation"]["id"].as_i64() else {
        return Ok(Effect::default());
    };
    let archived = match action {
        "deleted" | "suspend" => true,
        "unsuspend" | "created" | "new_permissions_accepted" => false,
        _ => return Ok(Effect::default()),
    };
    let reason = format!("installation_{action}");
    set_archived(tx, Some(installation), &[], archived, &reason).await
}

/// Repositories added to or removed from the installation's selection.
async fn installation_repositories(
    tx: &mut TenantTx,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let (list, archived) = match action {
        "added" => ("repositories_added", false),
        "removed" => ("repositories_removed", true),
        _ => return Ok(Effect::default()),
    };
    let ids: Vec<i64> = payload[list]
        .as_array()
        .map(|repos| repos.iter().filter_map(|r| r["id"].as_i64()).collect())
        .unwrap_or_default();
    let reason = format!("installation_repositories_{action}");
    set_archived(tx, None, &ids, archived, &reason).await
}

/// (Un)archives the GitHub repositories of `installation`, or those with GitHub ids `repo_ids`, then
/// rescans the ones tracked again.
async fn set_archived(
    tx: &mut TenantTx,
    installation: Option<i64>,
    repo_ids: &[i64],
    archived: bool,
    reason: &str,
) -> Result<Effect, sqlx::Error> {
    let repositories: Vec<Uuid> = sqlx::query_scalar(
        "update repositories set archived = $3, updated_at = now()
         where provider = 'github' and (installation_id = $1 or provider_repo_id = any($2)) returning id",
    )
    .bind(installation)
    .bind(repo_ids)
    .bind(archived)
    .fetch_all(&mut **tx)
    .await?;
    track(tx, &repositories, archived, reason).await
}

/// After (un)archiving `repositories`: rescan the ones tracked again.
async fn track(
    tx: &mut TenantTx,
    repositories: &[Uuid],
    archived: bool,
    reason: &str,
) -> Result<Effect, sqlx::Error> {
    let mut jobs = 0;
    if !archived {
        for repository in repositories {
            jobs += rescan(tx, *repository, reason).await?;
        }
    }
    Ok(Effect {
        jobs,
        changes: repositories.len(),
    })
}

async fn rescan(tx: &mut TenantTx, repository: Uuid, reason: &str) -> Result<usize, sqlx::Error> {
    let scan = ScanRepository {
        repository,
        reason: reason.into(),
    };
    Ok(usize::from(jobs::enqueue(tx, &scan).await?.is_some()))
}
