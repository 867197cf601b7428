//! The queries of the GitHub connections, each on the caller's tenant transaction: the
//! organization's installations (bound once, by the verified flow), the repositories connected
//! through one, and the repositories connected with a webhook of their own.

use dashboard_shared::{
    Error, TenantTx,
    domain::Role,
    jobs::{
        self,
        kinds::{PollRepository, ScanRepository},
    },
    plan::{self, Limit},
};
use uuid::Uuid;

use super::{
    client::GitHubRepository,
    model::{ConnectedRepository, Installation},
};
use crate::api::pagination::PageRequest;

/// How binding an installation to the organization went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// It is now this organization's.
    New,
    /// It already was.
    Already,
    /// Another organization has it.
    Elsewhere,
}

/// Binds installation `installation_id` to the organization of `tx`, unless any organization
/// already has it.
pub async fn bind_installation(
    tx: &mut TenantTx,
    installation_id: i64,
    account_login: Option<&str>,
    connected_by: Uuid,
) -> Result<Binding, sqlx::Error> {
    let login = account_login.filter(|l| (1..=100).contains(&l.chars().count()));
    let inserted = sqlx::query_scalar!(
        "insert into installations (installation_id, account_login, connected_by)
         values ($1, $2, $3) on conflict do nothing returning installation_id",
        installation_id,
        login,
        connected_by
    )
    .fetch_optional(&mut **tx)
    .await?;
    if inserted.is_some() {
        return Ok(Binding::New);
    }
    let ours = sqlx::query_scalar!(
        r#"select exists (select 1 from installations where installation_id = $1) as "ours!""#,
        installation_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(if ours {
        Binding::Already
    } else {
        Binding::Elsewhere
    })
}

/// The role of `account` in the organization of `tx`, if an enabled member.
pub async fn find_member_role(
    tx: &mut TenantTx,
    account: Uuid,
) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select m.role as "role: Role"
           from memberships m join accounts a on a.id = m.account_id
           where m.account_id = $1 and a.disabled_at is null"#,
        account
    )
    .fetch_optional(&mut **tx)
    .await
}

/// A page of the organization's installations, by id.
pub async fn list_installations(
    tx: &mut TenantTx,
    page: &PageRequest<i64>,
) -> Result<Vec<Installation>, sqlx::Error> {
    sqlx::query_as!(
        Installation,
        r#"select i.installation_id, i.account_login, i.follow_selection, i.connected_by,
                  i.created_at,
                  (select count(*) from repositories r
                   where r.installation_id = i.installation_id and not r.archived) as "repositories!"
           from installations i
           where ($1::bigint is null or i.installation_id > $1)
           order by i.installation_id
           limit $2"#,
        page.after,
        page.fetch()
    )
    .fetch_all(&mut **tx)
    .await
}

/// The installation `installation_id`, if it is this organization's.
pub async fn find_installation(
    tx: &mut TenantTx,
    installation_id: i64,
) -> Result<Option<Installation>, sqlx::Error> {
    sqlx::query_as!(
        Installation,
        r#"select i.installation_id, i.account_login, i.follow_selection, i.connected_by,
                  i.created_at,
                  (select count(*) from repositories r
                   where r.installation_id = i.installation_id and not r.archived) as "repositories!"
           from installations i
           where i.installation_id = $1"#,
        installation_id
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Sets whether the installation follows its selection on GitHub; false when it is not ours.
pub async fn update_follow_selection(
    tx: &mut TenantTx,
    installation_id: i64,
    follow: bool,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update installations set follow_selection = $2 where installation_id = $1",
        installation_id,
        follow
    )
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The repositories connected through the installation: (id, GitHub id).
pub async fn list_installation_repositories(
    tx: &mut TenantTx,
    installation_id: i64,
) -> Result<Vec<ConnectedRepository>, sqlx::Error> {
    sqlx::query_as!(
        ConnectedRepository,
        r#"select id, full_name, provider_repo_id as github_id, clone_url, default_branch,
                  installation_id, webhook_hook_id, archived, created_at
           from repositories where installation_id = $1
           order by full_name, id"#,
        installation_id
    )
    .fetch_all(&mut **tx)
    .await
}

/// Makes `wanted` the installation's connected repositories: the others it had are disconnected
/// (deleted with their projects, tasks and commits), the new ones connected and scanned, a row
/// of the same GitHub repository detached earlier attached again. Refused (409) when it would
/// take the organization over its plan's repository limit.
pub async fn replace_installation_repositories(
    tx: &mut TenantTx,
    installation_id: i64,
    wanted: &[GitHubRepository],
) -> Result<Vec<ConnectedRepository>, Error> {
    let before = plan::lock_usage(tx).await?;
    let ids: Vec<i64> = wanted.iter().map(|r| r.id).collect();
    sqlx::query!(
        "delete from repositories
         where installation_id = $1 and not (provider_repo_id = any($2))",
        installation_id,
        &ids
    )
    .execute(&mut **tx)
    .await?;
    for repository in wanted {
        connect_installation_repository(tx, installation_id, repository).await?;
    }
    let after = plan::plan_usage(tx).await?;
    let (allowed, connected) = (
        Limit::Repositories.of(&after.limits),
        Limit::Repositories.of(&after.usage),
    );
    if connected > allowed && connected > Limit::Repositories.of(&before.usage) {
        return Err(Error::Conflict(format!(
            "plan limit reached: the {} plan allows {allowed} repositories (max_repositories): \
             this would connect {connected}",
            after.plan
        )));
    }
    Ok(list_installation_repositories(tx, installation_id).await?)
}

/// Connects one repository through the installation (or attaches the row it already has) and
/// scans it when it became tracked.
async fn connect_installation_repository(
    tx: &mut TenantTx,
    installation_id: i64,
    repository: &GitHubRepository,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query!(
        r#"with before as (
             select installation_id, archived from repositories
             where provider = 'github' and provider_repo_id = $1)
           insert into repositories (provider, provider_repo_id, installation_id, full_name,
                                     clone_url, default_branch)
           values ('github', $1, $2, $3, $4, $5)
           on conflict (tenant_id, provider, provider_repo_id) do update set
             installation_id = excluded.installation_id,
             full_name = excluded.full_name,
             clone_url = excluded.clone_url,
             default_branch = coalesce(excluded.default_branch, repositories.default_branch),
             archived = repositories.archived
                        and repositories.archived_reason is distinct from 'detached',
             archived_reason = nullif(repositories.archived_reason, 'detached'),
             updated_at = now()
           returning id, archived,
             coalesce((select b.installation_id is distinct from $2 or b.archived from before b),
                      true) as "changed!""#,
        repository.id,
        installation_id,
        repository.full_name,
        repository.clone_url,
        repository.default_branch
    )
    .fetch_one(&mut **tx)
    .await?;
    if row.changed && !row.archived {
        let scan = ScanRepository {
            repository: row.id,
            reason: "connected".into(),
        };
        jobs::enqueue(tx, &scan).await?;
    }
    Ok(())
}

/// Disconnects the installation: its repositories are deleted (with their projects, tasks and
/// commits) and the binding forgotten. False when it is not ours.
pub async fn delete_installation(
    tx: &mut TenantTx,
    installation_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query!(
        "delete from repositories where installation_id = $1",
        installation_id
    )
    .execute(&mut **tx)
    .await?;
    let deleted = sqlx::query!(
        "delete from installations where installation_id = $1",
        installation_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Whether the organization already has GitHub repository `github_id`, or a remote at `clone_url`.
pub async fn is_connected(
    tx: &mut TenantTx,
    github_id: i64,
    clone_url: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from repositories
                          where provider_repo_id = $1 or (provider = 'git' and clone_url = $2))
           as "connected!""#,
        github_id,
        clone_url
    )
    .fetch_one(&mut **tx)
    .await
}

/// A repository connected with a webhook of its own, about to be stored.
pub struct HookedRepository<'a> {
    /// Its id, chosen before the secrets are sealed for it.
    pub id: Uuid,
    /// What GitHub says about it.
    pub github: &'a GitHubRepository,
    /// The webhook's id.
    pub hook_id: i64,
    /// The webhook's secret, sealed for this repository.
    pub secret_sealed: Vec<u8>,
    /// The token that fetches it, sealed for this repository.
    pub token_sealed: Vec<u8>,
    /// How often it is polled besides the webhook.
    pub poll_interval_seconds: i32,
}

/// Stores a repository connected with its own webhook (a `git` remote fetched with the token, its
/// webhook's deliveries verified with the secret) and enqueues its first poll.
pub async fn insert_hooked_repository(
    tx: &mut TenantTx,
    new: HookedRepository<'_>,
) -> Result<ConnectedRepository, sqlx::Error> {
    let row = sqlx::query_as!(
        ConnectedRepository,
        r#"insert into repositories (id, provider, provider_repo_id, full_name, clone_url,
                                     default_branch, webhook_hook_id, webhook_secret_encrypted,
                                     credential_kind, credential_encrypted, poll_interval_seconds)
           values ($1, 'git', $2, $3, $4, $5, $6, $7, 'token', $8, $9)
           returning id, full_name, provider_repo_id as github_id, clone_url, default_branch,
                     installation_id, webhook_hook_id, archived, created_at"#,
        new.id,
        new.github.id,
        new.github.full_name,
        new.github.clone_url,
        new.github.default_branch,
        new.hook_id,
        new.secret_sealed,
        new.token_sealed,
        new.poll_interval_seconds
    )
    .fetch_one(&mut **tx)
    .await?;
    jobs::enqueue(tx, &PollRepository { repository: row.id }).await?;
    Ok(row)
}

/// A repository's webhook as we created it, with the sealed token that may delete it.
pub struct RepositoryHook {
    /// `owner/name`.
    pub full_name: String,
    /// The webhook's id.
    pub hook_id: i64,
    /// The stored token, sealed.
    pub token_sealed: Option<Vec<u8>>,
}

/// The webhook we created on `repository` (none for a repository without one, or one an App
/// installation serves).
pub async fn find_repository_hook(
    tx: &mut TenantTx,
    repository: Uuid,
) -> Result<Option<RepositoryHook>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select full_name, webhook_hook_id as "hook_id!", credential_encrypted as token_sealed
           from repositories
           where id = $1 and webhook_hook_id is not null and installation_id is null
             and credential_kind = 'token'"#,
        repository
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| RepositoryHook {
        full_name: row.full_name,
        hook_id: row.hook_id,
        token_sealed: row.token_sealed,
    }))
}
