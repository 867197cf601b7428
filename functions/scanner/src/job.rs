//! The `scan_repository` job: sync the repository's mirror (GitHub repositories with an installation
//! token), then rescan only what changed since the last scan ([`incremental::plan`]): nothing, the
//! TODO/FIXME counts of the changed files, or a full detection over the default branch with every
//! submodule mounted. Idempotent: a second run finds nothing changed.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dashboard_shared::{
    Db, TenantId, TenantTx,
    crypto::SecretBox,
    github::{GitHubApp, Permission, TokenScope},
    jobs::Transport,
    jobs::kinds::ScanRepository,
    plan,
};
use uuid::Uuid;

use crate::{
    attempt::{self, MirrorLock},
    checkout::Checkout,
    detect::{MemTree, Project, ScanRules, Tree, detect, owner_of, owners, rules::CONFIG_FILE},
    git::GitTree,
    incremental::{self, Rescan},
    interrupt::Interrupt,
    limits::Limits,
    mirror::{self, Credentials, Fetcher},
    mirror_store::MirrorStore,
    poll::StoredCredential,
    remote::FetchPolicy,
    ssh::pin_host_keys,
    store::{cap_projects, store_scan},
};

/// What scan jobs need.
#[derive(Clone, Debug)]
pub struct ScannerContext {
    /// The runtime pool.
    pub db: Db,
    /// How the jobs scans enqueue (relinking) reach the linker.
    pub transport: Transport,
    /// Where mirrors are kept.
    pub mirrors: PathBuf,
    /// The GitHub App, for installation tokens to fetch GitHub repositories (`None`: not configured).
    pub github: Option<GitHubApp>,
    /// Where mirrors are kept when the instance's disk is not enough (Cloud Storage).
    pub store: MirrorStore,
    /// Opens the credentials of private `git` remotes (`None`: `SECRETS_ENCRYPTION_KEY` unset).
    pub secrets: Option<SecretBox>,
    /// Which remotes may be fetched ([`crate::remote::RemotePolicy::Hosted`] on Cloud Run, `Local`
    /// only in the local commands) and the mirror size cap.
    pub fetch: FetchPolicy,
    /// The caps on one job's work.
    pub limits: Limits,
}

/// The repository as the scan needs it.
#[derive(sqlx::FromRow)]
struct Source {
    provider: String,
    clone_url: String,
    default_branch: Option<String>,
    installation_id: Option<i64>,
    provider_repo_id: Option<i64>,
    last_synced_commit: Option<String>,
    ssh_host_keys: Option<String>,
    #[sqlx(flatten)]
    credential: StoredCredential,
}

/// What the blocking part found.
enum Outcome {
    Unchanged,
    Counts {
        deltas: Vec<(String, i64, i64)>,
        rules: ScanRules,
    },
    Full {
        projects: Vec<Project>,
        /// The task lists storing reads, copied out of the repository.
        files: MemTree,
    },
}

/// Runs a [`ScanRepository`] job for `tenant`, holding the repository's mirror lock; the outcome
/// is recorded on the repository ([`attempt::finish`]).
pub async fn scan_repository(
    ctx: ScannerContext,
    tenant: TenantId,
    job: ScanRepository,
) -> anyhow::Result<()> {
    let lock = attempt::lock(&ctx.db, tenant, job.repository).await?;
    let outcome = scan(&ctx, tenant, &job, &lock).await;
    lock.release().await;
    attempt::finish(&ctx.db, tenant, job.repository, outcome).await
}

async fn scan(
    ctx: &ScannerContext,
    tenant: TenantId,
    job: &ScanRepository,
    lock: &MirrorLock,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let source: Option<Source> = sqlx::query_as(
        "select provider, clone_url, default_branch, installation_id, provider_repo_id, last_synced_commit,
                ssh_host_keys, credential_kind, credential_username, credential_encrypted
         from repositories where id = $1 and not archived",
    )
    .bind(job.repository)
    .fetch_optional(&mut *tx)
    .await?;
    // No transaction stays open while fetching.
    tx.commit().await?;
    let Some(source) = source else {
        tracing::info!(repository.id = %job.repository, "repository gone or archived; nothing to scan");
        return Ok(());
    };
    let credentials = match source.provider.as_str() {
        "github" => {
            let app = ctx.github.as_ref().context(
                "a GitHub repository cannot be fetched: the GitHub App is not configured",
            )?;
            let installation = source
                .installation_id
                .context("the GitHub repository has no App installation")?;
            let repo_id = source
                .provider_repo_id
                .context("the GitHub repository has no GitHub id")?;
            let scope = TokenScope::read(repo_id, &[Permission::Contents]);
            Some(Credentials::github_installation(
                app.installation_token(installation, &scope).await?,
            ))
        }
        _ => source.credential.open(ctx, tenant, job.repository)?,
    };
    let mirror_path = mirror::mirror_path(&ctx.mirrors, tenant.as_uuid(), job.repository);
    if ctx
        .store
        .restore(&mirror_path, tenant.as_uuid(), job.repository)
        .await?
    {
        tracing::info!(repository.id = %job.repository, "mirror restored from the blob store");
    }
    let (mirrors, policy) = (ctx.mirrors.clone(), ctx.fetch.clone());
    let repository = job.repository;
    let url = source.clone_url.clone();
    let previous = source.last_synced_commit.clone();
    // Set when this future is dropped (the job timed out): the blocking work stops.
    let interrupt = Interrupt::new();
    let flag = interrupt.flag();
    let lock = lock.clone();
    let (commit, outcome, host_keys) = tokio::task::spawn_blocking(move || {
        let _lock = lock;
        let fetcher = Fetcher {
            policy: &policy,
            credentials: credentials.as_ref(),
            host_keys: source.ssh_host_keys.as_deref(),
            interrupt: &flag,
        };
        scan_mirror(
            &mirrors,
            tenant.as_uuid(),
            repository,
            &url,
            source.default_branch.as_deref(),
            previous.as_deref(),
            &fetcher,
        )
    })
    .await??;
    if let Some(keys) = host_keys {
        let mut tx = ctx.db.tenant(tenant).await?;
        pin_host_keys(&mut tx, job.repository, &keys).await?;
        tx.commit().await?;
    }
    if !matches!(outcome, Outcome::Unchanged) {
        ctx.store
            .save(&mirror_path, tenant.as_uuid(), job.repository)
            .await?;
    }

    let mut tx = ctx.db.tenant(tenant).await?;
    // Another scan may have stored a newer state meanwhile: then plan again (the job is retried).
    let current: Option<String> =
        sqlx::query_scalar("select last_synced_commit from repositories where id = $1 for update")
            .bind(job.repository)
            .fetch_one(&mut *tx)
            .await?;
    anyhow::ensure!(
        current == source.last_synced_commit,
        "the repository was rescanned concurrently; planning again"
    );
    match outcome {
        Outcome::Unchanged => {
            tracing::info!(repository.id = %job.repository, commit, "repository unchanged since the last scan");
        }
        Outcome::Counts { deltas, rules } => {
            let files = deltas.len();
            apply_counts(&mut tx, job.repository, &commit, &deltas, &rules).await?;
            tracing::info!(repository.id = %job.repository, commit, files, "no manifest changed: TODO/FIXME counts updated");
        }
        Outcome::Full {
            mut projects,
            files,
        } => {
            let room = plan::project_room(&mut tx, job.repository).await?;
            let problems = cap_projects(&mut projects, &room);
            let stored = store_scan(&mut tx, job.repository, &commit, &files, &projects).await?;
            sqlx::query("update repositories set scan_problems = $2 where id = $1")
                .bind(job.repository)
                .bind(&problems)
                .execute(&mut *tx)
                .await?;
            tracing::info!(repository.id = %job.repository, commit, projects = stored.projects, tasks = stored.tasks, removed = stored.removed, ?problems, "repository scanned");
        }
    }
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    sqlx::query!(
        "update repositories set last_scanned_at = now(), last_synced_commit = $2,
           last_scan_duration_ms = $3
         where id = $1",
        job.repository,
        commit,
        duration_ms
    )
    .execute(&mut *tx)
    .await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    Ok(())
}

/// Fetches, then plans and runs the scan on the mirror; also returns the SSH host keys to pin, if
/// met for the first time. Blocking.
fn scan_mirror(
    mirrors: &Path,
    tenant: Uuid,
    repository: Uuid,
    url: &str,
    branch: Option<&str>,
    previous: Option<&str>,
    fetcher: &Fetcher<'_>,
) -> anyhow::Result<(String, Outcome, Option<String>)> {
    let path = mirror::mirror_path(mirrors, tenant, repository);
    let host_keys = fetcher.sync(&path, url)?.host_keys;
    let (commit, outcome) =
        scan_synced(mirrors, tenant, repository, url, branch, previous, fetcher)?;
    Ok((commit, outcome, host_keys))
}

/// Plans and runs the scan on the synced mirror. Blocking.
fn scan_synced(
    mirrors: &Path,
    tenant: Uuid,
    repository: Uuid,
    url: &str,
    branch: Option<&str>,
    previous: Option<&str>,
    fetcher: &Fetcher<'_>,
) -> anyhow::Result<(String, Outcome)> {
    let path = mirror::mirror_path(mirrors, tenant, repository);
    let revision = branch.map(|b| format!("refs/heads/{b}"));
    let repo = mirror::open(&path)?;
    let commit = match &revision {
        Some(rev) => repo
            .rev_parse_single(rev.as_str())
            .with_context(|| format!("the default branch `{rev}` is not in the repository"))?
            .detach(),
        None => repo
            .head_id()
            .context("the repository has no HEAD")?
            .detach(),
    };
    match incremental::plan(&repo, previous, commit)? {
        Rescan::Unchanged => return Ok((commit.to_string(), Outcome::Unchanged)),
        Rescan::Counts(deltas) => {
            let config = repo
                .find_object(commit)?
                .peel_to_tree()?
                .lookup_entry_by_path(CONFIG_FILE)?
                .map(|entry| entry.object())
                .transpose()?;
            let (rules, _) = ScanRules::from_config(config.as_ref().map(|c| c.data.as_slice()));
            return Ok((commit.to_string(), Outcome::Counts { deltas, rules }));
        }
        Rescan::Full => {}
    }
    let tree = GitTree::open(&path, Some(&commit.to_string()))?;
    // Only submodules from the repository's own source get here (`RemotePolicy::same_source`):
    // its pinned host keys are theirs too, its credential only on its own origin.
    let fetch = |sub_url: &str, _name: &str, pinned: &str| {
        let module = mirror::module_path(mirrors, tenant, sub_url);
        fetcher
            .for_submodule(url, sub_url)
            .ensure_commit(&module, sub_url, pinned)?;
        Ok(module)
    };
    let checkout = Checkout::recursive(tree, url, fetcher.policy.remotes, &fetch);
    let mut projects = detect(&checkout);
    checkout.report(&mut projects);
    for skipped in checkout.skipped() {
        tracing::warn!(repository.id = %repository, skipped, "file not scanned");
    }
    let files = MemTree(
        projects
            .iter()
            .filter_map(Project::task_list)
            .filter_map(|path| checkout.read(path).map(|bytes| (path.to_owned(), bytes)))
            .collect(),
    );
    Ok((commit.to_string(), Outcome::Full { projects, files }))
}

/// Adds TODO/FIXME line deltas of changed files to the projects that own them.
async fn apply_counts(
    tx: &mut TenantTx,
    repository: Uuid,
    commit: &str,
    deltas: &[(String, i64, i64)],
    rules: &ScanRules,
) -> Result<(), sqlx::Error> {
    let paths: Vec<String> = sqlx::query_scalar(
        "select path from projects where repository_id = $1 and removed_at is null",
    )
    .bind(repository)
    .fetch_all(&mut **tx)
    .await?;
    let owners = owners(paths);
    let mut per_owner: std::collections::BTreeMap<&String, (i64, i64)> = Default::default();
    for (path, todo, fixme) in deltas {
        if let Some(owner) = owner_of(path, &owners, rules) {
            let entry = per_owner.entry(owner).or_default();
            entry.0 += todo;
            entry.1 += fixme;
        }
    }
    for (owner, (todo, fixme)) in per_owner {
        sqlx::query(
            "update projects set todo_count = greatest(0, todo_count + $3), fixme_count = greatest(0, fixme_count + $4)
             where repository_id = $1 and path = $2 and removed_at is null",
        )
        .bind(repository)
        .bind(owner)
        .bind(todo)
        .bind(fixme)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "update projects set scanned_commit = $2 where repository_id = $1 and removed_at is null",
    )
    .bind(repository)
    .bind(commit)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
