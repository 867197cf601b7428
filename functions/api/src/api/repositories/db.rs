//! Repositories on the caller's tenant transaction: connecting a git remote (checked by
//! [`Connection::parse`]; within the plan's limit, the credential sealed to the tenant and
//! repository, its first poll queued), listing them
//! with their sync health, syncing one now, changing its poll interval, disconnecting it. The API
//! and `dashboard repo …` both call these.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error, TenantTx,
    crypto::{SecretBox, git_credential_context},
    domain::Provider,
    jobs::{self, JobCounts},
    plan::{self, Limit},
};
use secrecy::ExposeSecret as _;
use uuid::Uuid;

pub use super::connection::{
    Connection, Credential, DEFAULT_POLL_INTERVAL_SECONDS, POLL_INTERVAL_SECONDS,
    check_poll_interval,
};
use super::model::{
    Backfill, LastScan, Repository, RepositoryFilter, RepositoryKey, SyncHealth, SyncState,
};
use crate::api::{
    contains_pattern,
    pagination::{MAX_LIMIT, PageRequest},
};

/// A connected remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// The repository's id.
    pub id: Uuid,
    /// Whether it was connected now (else it was already, and only its credential changed, if
    /// one was given).
    pub new: bool,
    /// The poll that fetches it.
    pub job: Uuid,
}

/// Connects `connection`'s remote (once per URL: connecting it again returns the same repository,
/// with the new credential if one is given) within the plan's repository limit, and enqueues its
/// poll. The credential is sealed to this tenant and repository.
pub async fn connect_repository(
    tx: &mut TenantTx,
    secrets: &SecretBox,
    connection: &Connection,
) -> Result<Connected, Error> {
    let existing = sqlx::query!(
        "select id, archived from repositories where provider = 'git' and clone_url = $1",
        connection.remote.url
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (id, new) = match existing {
        Some(row) if !row.archived => (row.id, false),
        Some(row) => {
            plan::ensure_room(tx, Limit::Repositories, 1).await?;
            sqlx::query!(
                "update repositories set archived = false, updated_at = now() where id = $1",
                row.id
            )
            .execute(&mut **tx)
            .await?;
            (row.id, true)
        }
        None => {
            plan::ensure_room(tx, Limit::Repositories, 1).await?;
            let id = sqlx::query_scalar!(
                "insert into repositories (provider, full_name, clone_url, poll_interval_seconds)
                 values ($1, $2, $3, $4) returning id",
                Provider::Git.as_str(),
                connection.remote.name,
                connection.remote.url,
                connection.poll_interval_seconds
            )
            .fetch_one(&mut **tx)
            .await?;
            (id, true)
        }
    };
    if let Some(credential) = &connection.credential {
        let (kind, username, secret) = match credential {
            Credential::Token { username, token } => ("token", username.as_deref(), token),
            Credential::SshKey(key) => ("ssh_key", None, key),
        };
        let sealed = secrets.seal(
            secret.expose_secret().as_bytes(),
            &git_credential_context(tx.tenant_id().as_uuid(), id),
        );
        sqlx::query!(
            "update repositories set credential_kind = $2, credential_username = $3,
               credential_encrypted = $4, updated_at = now()
             where id = $1",
            id,
            kind,
            username,
            sealed
        )
        .execute(&mut **tx)
        .await?;
    }
    let job = jobs::sync_now(tx, id, Provider::Git).await?;
    Ok(Connected { id, new, job })
}

/// A disconnected repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Where it came from.
    pub provider: Provider,
}

/// Disconnects repository `id`: its row goes with its projects, tasks, commits and links, and the
/// jobs still queued for it. `None` when there is no such repository here.
pub async fn disconnect_repository(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<Disconnected>, Error> {
    let removed = sqlx::query!(
        r#"delete from repositories where id = $1
           returning id, full_name as name, provider as "provider: Provider""#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(removed) = removed else {
        return Ok(None);
    };
    jobs::discard_queued_jobs(tx, id).await?;
    Ok(Some(Disconnected {
        id: removed.id,
        name: removed.name,
        provider: removed.provider,
    }))
}

/// Enqueues a sync of repository `id` now (a poll, or for GitHub a scan): its job, or `None` when
/// there is no such repository here.
pub async fn sync_repository(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, Error> {
    let provider = sqlx::query_scalar!(
        r#"select provider as "provider: Provider" from repositories where id = $1 and not archived"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(provider) = provider else {
        return Ok(None);
    };
    Ok(Some(jobs::sync_now(tx, id, provider).await?))
}

/// Sets how often repository `id` is polled (`git` remotes only); `false` when there is no such
/// repository here.
pub async fn set_poll_interval(tx: &mut TenantTx, id: Uuid, seconds: i32) -> Result<bool, Error> {
    let seconds = check_poll_interval(seconds)?;
    let provider = sqlx::query_scalar!(
        r#"select provider as "provider: Provider" from repositories
           where id = $1 and not archived for update"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    match provider {
        None => Ok(false),
        Some(Provider::Github) => Err(Error::Unprocessable(
            "poll_interval: a GitHub repository is synced by its webhook, not polled".into(),
        )),
        Some(Provider::Git) => {
            sqlx::query!(
                "update repositories set poll_interval_seconds = $2, updated_at = now() where id = $1",
                id,
                seconds
            )
            .execute(&mut **tx)
            .await?;
            Ok(true)
        }
    }
}

/// The ids and names of the repositories named `name` (their name or URL).
pub async fn find_repositories_named(
    tx: &mut TenantTx,
    name: &str,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select id, full_name from repositories
         where not archived and (full_name = $1 or clone_url = $1)
         order by full_name, id",
        name
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.full_name)).collect())
}

/// A page of repositories matching `filter`, by name and id, each with its sync health.
pub async fn list_repositories(
    tx: &mut TenantTx,
    filter: &RepositoryFilter,
    page: &PageRequest<RepositoryKey>,
) -> Result<Vec<Repository>, sqlx::Error> {
    read_repositories(tx, filter, None, page).await
}

/// Every repository matching `filter` (all pages), for the command line.
pub async fn list_all_repositories(
    tx: &mut TenantTx,
    filter: &RepositoryFilter,
) -> Result<Vec<Repository>, sqlx::Error> {
    let mut all = Vec::new();
    let mut page = PageRequest {
        limit: MAX_LIMIT,
        after: None,
    };
    loop {
        let mut rows = read_repositories(tx, filter, None, &page).await?;
        let more = rows.len() > MAX_LIMIT as usize;
        rows.truncate(MAX_LIMIT as usize);
        page.after = rows.last().map(|r| (r.name.clone(), r.id));
        all.extend(rows);
        if !more {
            return Ok(all);
        }
    }
}

/// Repository `id` with its sync health.
pub async fn find_repository(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<Repository>, sqlx::Error> {
    let one = PageRequest {
        limit: 1,
        after: None,
    };
    let rows = read_repositories(tx, &RepositoryFilter::default(), Some(id), &one).await?;
    Ok(rows.into_iter().next())
}

/// The one query behind the list and a single repository.
async fn read_repositories(
    tx: &mut TenantTx,
    filter: &RepositoryFilter,
    only: Option<Uuid>,
    page: &PageRequest<RepositoryKey>,
) -> Result<Vec<Repository>, sqlx::Error> {
    let q = filter.q.as_deref().map(contains_pattern);
    let after = page.after.as_ref();
    let rows = sqlx::query_as!(
        RepositoryRow,
        r#"select r.id, r.provider as "provider: Provider", r.full_name, r.clone_url,
                  r.default_branch,
                  (select count(*) from jsonb_object_keys(r.branch_heads))::int as "branches!",
                  r.poll_interval_seconds, r.credential_kind is not null as "has_credential!",
                  r.project_count as projects, r.task_count as tasks, r.tasks_done,
                  r.commit_count as commits, r.link_count as links,
                  r.created_at, r.last_delivery_at, r.last_polled_at, r.last_scanned_at,
                  r.last_synced_commit, r.last_scan_duration_ms, r.consecutive_failures,
                  r.last_error, r.last_failed_at, r.retry_after, r.scan_problems,
                  r.history_incomplete,
                  case when r.provider = 'git' then
                    greatest(r.last_polled_at + make_interval(secs => r.poll_interval_seconds),
                             r.retry_after)
                  end as "next_poll_at?"
           from repositories r
           where not r.archived
             and ($1::uuid is null or r.id = $1)
             and ($2::text is null or r.provider = $2)
             and ($3::text is null or r.full_name ilike $3 or r.clone_url ilike $3)
             and ($4::bool is null or (r.consecutive_failures > 0) = $4)
             and ($5::text is null or (r.full_name, r.id) > ($5, $6::uuid))
           order by r.full_name, r.id
           limit $7"#,
        only,
        filter.provider.map(Provider::as_str),
        q,
        filter.failing,
        after.map(|k| k.0.as_str()),
        after.map(|k| k.1),
        page.fetch(),
    )
    .fetch_all(&mut **tx)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let jobs = jobs::count_jobs_by_repository(tx, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let counts = jobs.get(&row.id).copied().unwrap_or_default();
            row.into_repository(counts)
        })
        .collect())
}

/// A repository as [`read_repositories`] reads it.
struct RepositoryRow {
    id: Uuid,
    provider: Provider,
    full_name: String,
    clone_url: String,
    default_branch: Option<String>,
    branches: i32,
    poll_interval_seconds: i32,
    has_credential: bool,
    projects: i64,
    tasks: i64,
    tasks_done: i64,
    commits: i64,
    links: i64,
    created_at: DateTime<Utc>,
    last_delivery_at: Option<DateTime<Utc>>,
    last_polled_at: Option<DateTime<Utc>>,
    last_scanned_at: Option<DateTime<Utc>>,
    last_synced_commit: Option<String>,
    last_scan_duration_ms: Option<i32>,
    consecutive_failures: i32,
    last_error: Option<String>,
    last_failed_at: Option<DateTime<Utc>>,
    retry_after: Option<DateTime<Utc>>,
    scan_problems: Vec<String>,
    history_incomplete: bool,
    next_poll_at: Option<DateTime<Utc>>,
}

impl RepositoryRow {
    /// The repository with its health, given its jobs.
    fn into_repository(self, jobs: JobCounts) -> Repository {
        let last_scan = self
            .last_synced_commit
            .zip(self.last_scanned_at)
            .map(|(commit, at)| LastScan {
                commit,
                at,
                duration_ms: self.last_scan_duration_ms,
            });
        let fetched = last_scan.is_some() || self.last_polled_at.is_some();
        Repository {
            id: self.id,
            provider: self.provider,
            name: self.full_name,
            url: self.clone_url,
            default_branch: self.default_branch,
            branches: self.branches,
            poll_interval_seconds: self.poll_interval_seconds,
            has_credential: self.has_credential,
            projects: self.projects,
            tasks: self.tasks,
            tasks_done: self.tasks_done,
            commits: self.commits,
            links: self.links,
            created_at: self.created_at,
            health: SyncHealth {
                state: sync_state(&jobs, self.consecutive_failures, fetched),
                last_delivery_at: self.last_delivery_at,
                last_polled_at: self.last_polled_at,
                last_scan,
                next_poll_at: self.next_poll_at,
                jobs,
                consecutive_failures: self.consecutive_failures,
                last_error: self.last_error,
                last_failed_at: self.last_failed_at,
                retry_after: self.retry_after,
                problems: self.scan_problems,
                backfill: Backfill {
                    complete: fetched && !self.history_incomplete,
                    commits: self.commits,
                },
            },
        }
    }
}

/// The one word for a repository's syncing: working now, failing, never fetched, or healthy.
fn sync_state(jobs: &JobCounts, consecutive_failures: i32, fetched: bool) -> SyncState {
    if jobs.running > 0 {
        SyncState::Syncing
    } else if consecutive_failures > 0 {
        SyncState::Failing
    } else if !fetched {
        SyncState::Pending
    } else {
        SyncState::Healthy
    }
}
