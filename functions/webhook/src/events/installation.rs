//! The installation lifecycle, in the tenant that owns the installation: uninstalling detaches its
//! repositories and forgets it, suspending stops its tracked repositories and unsuspending resumes
//! only those, and the repositories added to or removed from its selection are attached or
//! detached (and, when the organization follows the installation's selection, the added ones it
//! lacked are connected). Each change is one statement over the tenant's rows of that
//! installation, and the rows it leaves tracked are rescanned.

use dashboard_shared::{
    TenantTx,
    plan::{self, Limit},
};
use serde_json::Value;
use uuid::Uuid;

use super::{Effect, rescan};

/// The App was uninstalled (its repositories are detached and the installation forgotten), suspended
/// (its tracked repositories stop), unsuspended (the ones the suspension stopped resume, no others),
/// or installed or given new permissions (its tracked repositories are rescanned).
pub(super) async fn event(
    tx: &mut TenantTx,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let Some(installation) = payload["installation"]["id"].as_i64() else {
        return Ok(Effect::default());
    };
    let sql = match action {
        "deleted" => DETACH,
        "suspend" => SUSPEND,
        "unsuspend" => UNSUSPEND,
        "created" | "new_permissions_accepted" => TRACKED,
        _ => return Ok(Effect::default()),
    };
    let reason = format!("installation_{action}");
    let mut effect = change(tx, sql, installation, None, &reason).await?;
    if action == "deleted" {
        effect.changes += sqlx::query("delete from installations where installation_id = $1")
            .bind(installation)
            .execute(&mut **tx)
            .await?
            .rows_affected() as usize;
    }
    Ok(effect)
}

/// Repositories added to the installation's selection are attached to it (and resume if they had
/// been detached), and, when the organization follows the installation's selection, the ones it
/// did not have are connected; removed ones are detached.
pub(super) async fn repositories(
    tx: &mut TenantTx,
    action: &str,
    payload: &Value,
) -> Result<Effect, sqlx::Error> {
    let Some(installation) = payload["installation"]["id"].as_i64() else {
        return Ok(Effect::default());
    };
    let (list, sql) = match action {
        "added" => ("repositories_added", ATTACH),
        "removed" => ("repositories_removed", DETACH),
        _ => return Ok(Effect::default()),
    };
    let ids: Vec<i64> = payload[list]
        .as_array()
        .map(|repos| repos.iter().filter_map(|r| r["id"].as_i64()).collect())
        .unwrap_or_default();
    let reason = format!("installation_repositories_{action}");
    let mut effect = change(tx, sql, installation, Some(&ids), &reason).await?;
    if action == "added" {
        let connected = connect_followed(tx, installation, payload, &reason).await?;
        effect.jobs += connected.jobs;
        effect.changes += connected.changes;
    }
    Ok(effect)
}

/// When the installation follows its selection, connects the added repositories the organization
/// does not have yet (as many as its plan allows; the others are logged) and scans them. Their
/// clone URL is made from the installation account's web origin, which the payload carries.
async fn connect_followed(
    tx: &mut TenantTx,
    installation: i64,
    payload: &Value,
    reason: &str,
) -> Result<Effect, sqlx::Error> {
    let follows: Option<bool> =
        sqlx::query_scalar("select follow_selection from installations where installation_id = $1")
            .bind(installation)
            .fetch_optional(&mut **tx)
            .await?;
    let origin = payload["installation"]["account"]["html_url"]
        .as_str()
        .and_then(web_origin);
    let (Some(true), Some(origin)) = (follows, origin) else {
        return Ok(Effect::default());
    };
    let usage = plan::lock_usage(tx).await?;
    let limit = Limit::Repositories.of(&usage.limits);
    let mut room = usize::try_from(usage.room(Limit::Repositories)).unwrap_or(0);
    let mut effect = Effect::default();
    let added = payload["repositories_added"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for repo in &added {
        let (Some(id), Some(full_name)) = (repo["id"].as_i64(), repo["full_name"].as_str()) else {
            continue;
        };
        if room == 0 {
            tracing::warn!(
                installation.id = installation,
                repository = full_name,
                limit,
                "the plan's repository limit is reached: an added repository is not connected"
            );
            continue;
        }
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "insert into repositories (provider, provider_repo_id, installation_id, full_name, clone_url)
             values ('github', $1, $2, $3, $4)
             on conflict (tenant_id, provider, provider_repo_id) do nothing
             returning id",
        )
        .bind(id)
        .bind(installation)
        .bind(full_name)
        .bind(format!("{origin}/{full_name}.git"))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(repository) = inserted {
            room -= 1;
            effect.changes += 1;
            effect.jobs += rescan(tx, repository, reason).await?;
        }
    }
    Ok(effect)
}

/// `https://host[:port]` of an account's `html_url` (`https://github.com/octocat`), if https.
fn web_origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
        .then(|| format!("https://{host}"))
}

/// Detaches the installation's rows (those with GitHub ids `$2`, or all): no delivery reaches them
/// any more. A row GitHub archived or deleted keeps that reason.
const DETACH: &str = "update repositories set installation_id = null, archived = true,
       archived_reason = case when archived and archived_reason in ('archived_on_github', 'deleted_on_github')
                              then archived_reason else 'detached' end,
       updated_at = now()
     where provider = 'github' and installation_id = $1
       and ($2::bigint[] is null or provider_repo_id = any($2))
     returning id, archived";

/// Attaches the tenant's rows with GitHub ids `$2` to installation `$1`; detached ones resume.
const ATTACH: &str = "update repositories set installation_id = $1,
       archived = archived and archived_reason is distinct from 'detached',
       archived_reason = nullif(archived_reason, 'detached'),
       updated_at = now()
     where provider = 'github' and provider_repo_id = any($2)
     returning id, archived";

/// Stops the installation's tracked rows.
const SUSPEND: &str =
    "update repositories set archived = true, archived_reason = 'installation_suspended',
       updated_at = now()
     where installation_id = $1 and not archived and $2::bigint[] is null
     returning id, archived";

/// Resumes the installation's rows that its suspension stopped, and only those.
const UNSUSPEND: &str = "update repositories set archived = false, archived_reason = null, updated_at = now()
     where installation_id = $1 and archived_reason = 'installation_suspended' and $2::bigint[] is null
     returning id, archived";

/// The installation's tracked rows, unchanged.
const TRACKED: &str = "select id, archived from repositories
     where installation_id = $1 and not archived and $2::bigint[] is null";

/// Runs one of the statements above (`$1` the installation, `$2` GitHub repository ids or null),
/// then rescans the rows it returned that are tracked. The statements about a whole installation are
/// given a null `$2` and name it only so that every statement takes the same two parameters.
async fn change(
    tx: &mut TenantTx,
    sql: &'static str,
    installation: i64,
    repo_ids: Option<&[i64]>,
    reason: &str,
) -> Result<Effect, sqlx::Error> {
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(sql)
        .bind(installation)
        .bind(repo_ids)
        .fetch_all(&mut **tx)
        .await?;
    let mut jobs = 0;
    for (repository, archived) in &rows {
        if !archived {
            jobs += rescan(tx, *repository, reason).await?;
        }
    }
    Ok(Effect {
        jobs,
        changes: rows.len(),
    })
}

/// Detaches the installation's rows with GitHub ids `repo_ids` (a transferred repository).
pub(super) async fn detach(
    tx: &mut TenantTx,
    installation: i64,
    repo_ids: &[i64],
    reason: &str,
) -> Result<Effect, sqlx::Error> {
    change(tx, DETACH, installation, Some(repo_ids), reason).await
}
