//! The `poll_repository` job, for repositories of the `git` provider (any URL or path gix can fetch):
//! fetch into the scanner's mirror, find the commits new on every branch since the last poll — those
//! reachable from a branch's head and from no head the last poll saw, so new branches and forced
//! pushes need nothing special and deleted branches simply drop out (a branch other than the default
//! one is handed only the commits the default branch lacks, its own work) — and hand them to
//! [`commits::ingest`], the path a GitHub push delivery takes. Other branches go first and the
//! default branch last, as pushes would arrive, so a commit reaching the default branch closes what it
//! fixes. A moved default branch enqueues a rescan. Idempotent: polling again with nothing new
//! changes nothing.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context as _;
use dashboard_shared::{
    TenantId,
    commits::{self, NewCommit, Push},
    crypto::git_credential_context,
    jobs::{
        self,
        kinds::{PollRepository, ScanRepository},
    },
};
use gix::ObjectId;
use uuid::Uuid;

use crate::{
    ScannerContext,
    attempt::{self, MirrorLock},
    history::{new_commit, take_within},
    interrupt::Interrupt,
    mirror::{self, Credentials, Fetcher},
    ssh::pin_host_keys,
};

/// The repository as polling needs it.
#[derive(sqlx::FromRow)]
struct Source {
    clone_url: String,
    default_branch: Option<String>,
    branch_heads: serde_json::Value,
    last_synced_commit: Option<String>,
    ssh_host_keys: Option<String>,
    #[sqlx(flatten)]
    credential: StoredCredential,
}

/// A repository's sealed credential, as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredCredential {
    credential_kind: Option<String>,
    credential_username: Option<String>,
    credential_encrypted: Option<Vec<u8>>,
}

/// What a poll found.
#[derive(Debug, Default)]
struct Polled {
    /// Every branch of the remote and its head.
    heads: BTreeMap<String, String>,
    /// The default branch: the one stored if the remote has it, else the remote's `HEAD` as it was
    /// when the mirror was cloned, else `main`, `master` or the first.
    default_branch: Option<String>,
    /// Per branch, the commits new since the last poll (other branches first, the default last).
    pushes: Vec<(String, Vec<NewCommit>)>,
    /// The SSH host keys met on the first fetch, to pin.
    host_keys: Option<String>,
    /// Whether the commit cap held some back: `heads` then names, for a branch cut short, the last
    /// commit taken (or its previous head), so the next poll goes on from there.
    capped: bool,
}

/// Runs a [`PollRepository`] job for `tenant`, holding the repository's mirror lock; the outcome
/// is recorded on the repository ([`attempt::finish`]).
pub async fn poll_repository(
    ctx: ScannerContext,
    tenant: TenantId,
    job: PollRepository,
) -> anyhow::Result<()> {
    let lock = attempt::lock(&ctx.db, tenant, job.repository).await?;
    let outcome = poll(&ctx, tenant, &job, &lock).await;
    lock.release().await;
    attempt::finish(&ctx.db, tenant, job.repository, outcome).await
}

async fn poll(
    ctx: &ScannerContext,
    tenant: TenantId,
    job: &PollRepository,
    lock: &MirrorLock,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let source: Option<Source> = sqlx::query_as(
        "select clone_url, default_branch, branch_heads, last_synced_commit, ssh_host_keys,
                credential_kind, credential_username, credential_encrypted
         from repositories where id = $1 and provider = 'git' and not archived",
    )
    .bind(job.repository)
    .fetch_optional(&mut *tx)
    .await?;
    // No transaction stays open while fetching.
    tx.commit().await?;
    let Some(source) = source else {
        tracing::info!(repository.id = %job.repository, "repository gone, archived or not of the git provider; nothing to poll");
        return Ok(());
    };
    let credentials = source.credential.open(ctx, tenant, job.repository)?;
    let known: BTreeMap<String, String> = serde_json::from_value(source.branch_heads.clone())
        .context("the stored branch heads are damaged")?;
    let mirror_path = mirror::mirror_path(&ctx.mirrors, tenant.as_uuid(), job.repository);
    ctx.store
        .restore(&mirror_path, tenant.as_uuid(), job.repository)
        .await?;
    // Set when this future is dropped (the job timed out): the fetch stops.
    let interrupt = Interrupt::new();
    let polled = {
        let (path, url, known, default) = (
            mirror_path.clone(),
            source.clone_url.clone(),
            known.clone(),
            source.default_branch.clone(),
        );
        let (policy, host_keys, flag) = (
            ctx.fetch.clone(),
            source.ssh_host_keys.clone(),
            interrupt.flag(),
        );
        let (lock, cap) = (lock.clone(), ctx.limits.max_commits_per_poll);
        tokio::task::spawn_blocking(move || {
            let _lock = lock;
            let fetcher = Fetcher {
                policy: &policy,
                credentials: credentials.as_ref(),
                host_keys: host_keys.as_deref(),
                interrupt: &flag,
            };
            poll_mirror(&path, &url, &fetcher, &known, default.as_deref(), cap)
        })
        .await??
    };
    if polled.heads != known {
        ctx.store
            .save(&mirror_path, tenant.as_uuid(), job.repository)
            .await?;
    }

    let mut tx = ctx.db.tenant(tenant).await?;
    // Another poll may have stored newer heads meanwhile: then poll again (the job is retried).
    let current: serde_json::Value =
        sqlx::query_scalar("select branch_heads from repositories where id = $1 for update")
            .bind(job.repository)
            .fetch_one(&mut *tx)
            .await?;
    anyhow::ensure!(
        current == source.branch_heads,
        "the repository was polled concurrently; polling again"
    );
    if let Some(keys) = &polled.host_keys {
        pin_host_keys(&mut tx, job.repository, keys).await?;
    }
    let default_branch = polled.default_branch;
    let mut new = 0;
    for (branch, found) in polled.pushes {
        let push = Push {
            repository: job.repository,
            branch: Some(&branch),
            default_branch: default_branch.as_deref() == Some(branch.as_str()),
        };
        new += commits::ingest(&mut tx, push, found).await?.len();
    }
    // A poll cut short by the commit cap leaves the repository due, so the rest comes next tick.
    sqlx::query(
        "update repositories set branch_heads = $2, default_branch = $3, updated_at = now(),
           last_polled_at = case when $4 then last_polled_at else now() end,
           history_incomplete = $4
         where id = $1",
    )
    .bind(job.repository)
    .bind(serde_json::to_value(&polled.heads)?)
    .bind(&default_branch)
    .bind(polled.capped)
    .execute(&mut *tx)
    .await?;
    let default_head = default_branch.as_ref().and_then(|b| polled.heads.get(b));
    let rescan = default_head.is_some() && default_head != source.last_synced_commit.as_ref();
    if rescan {
        jobs::enqueue(
            &mut tx,
            &ScanRepository {
                repository: job.repository,
                reason: "poll".into(),
            },
        )
        .await?;
    }
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(
        repository.id = %job.repository,
        branches = polled.heads.len(),
        commits.new = new,
        rescan,
        capped = polled.capped,
        "repository polled"
    );
    if polled.capped {
        tracing::warn!(
            repository.id = %job.repository,
            cap = ctx.limits.max_commits_per_poll,
            "more new commits than SCANNER_MAX_COMMITS_PER_POLL: the rest are taken next poll"
        );
    }
    Ok(())
}

impl StoredCredential {
    /// The credential, opened (never logged).
    pub(crate) fn open(
        &self,
        ctx: &ScannerContext,
        tenant: TenantId,
        repository: Uuid,
    ) -> anyhow::Result<Option<Credentials>> {
        let (Some(kind), Some(sealed)) = (&self.credential_kind, &self.credential_encrypted) else {
            return Ok(None);
        };
        let secrets = ctx.secrets.as_ref().context(
            "the repository has a credential but SECRETS_ENCRYPTION_KEY is not configured",
        )?;
        let secret = secrets
            .open(
                sealed,
                &git_credential_context(tenant.as_uuid(), repository),
            )
            .context("the repository's credential cannot be opened")?;
        match kind.as_str() {
            "token" => Ok(Some(Credentials::Basic {
                username: self
                    .credential_username
                    .clone()
                    .unwrap_or_else(|| "git".into()),
                password: secret,
            })),
            "ssh_key" => Ok(Some(Credentials::SshKey(secret))),
            other => anyhow::bail!("the repository's credential is of an unknown kind `{other}`"),
        }
    }
}

/// Fetches `url` into `mirror` and finds what is new since `known` (branch → head), at most `cap`
/// commits in all. Blocking.
fn poll_mirror(
    mirror: &Path,
    url: &str,
    fetcher: &Fetcher<'_>,
    known: &BTreeMap<String, String>,
    default_branch: Option<&str>,
    cap: usize,
) -> anyhow::Result<Polled> {
    let synced = fetcher.sync(mirror, url)?;
    let heads = synced.branches;
    let default_branch = choose_default(default_branch, mirror::head_branch(mirror), &heads);
    let repo = mirror::open(mirror)?;
    // Whatever the last poll saw was ingested then; commits a forced push dropped are not in the
    // mirror's history any more and hide nothing.
    let seen: Vec<ObjectId> = known
        .values()
        .filter_map(|sha| ObjectId::from_hex(sha.as_bytes()).ok())
        .filter(|id| repo.has_object(id))
        .collect();
    let default_branch = default_branch.as_deref();
    let mut order: Vec<(&String, &ObjectId)> = heads
        .iter()
        .filter(|(branch, head)| known.get(*branch) != Some(&head.to_string()))
        .collect();
    order.sort_by_key(|(branch, _)| default_branch == Some(branch.as_str()));
    // A branch's own commits are those the default branch does not have: only they carry its name.
    let default_head = default_branch.and_then(|b| heads.get(b)).copied();
    let mut taken_heads: BTreeMap<String, String> = heads
        .iter()
        .map(|(branch, head)| (branch.clone(), head.to_string()))
        .collect();
    let (mut pushes, mut budget, mut capped) = (Vec::new(), cap, false);
    for (branch, head) in order {
        let mut hidden = seen.clone();
        if default_branch != Some(branch.as_str()) {
            hidden.extend(default_head);
        }
        let (taken, ids) = take_within(&repo, *head, &hidden, budget)?;
        if taken != *head {
            capped = true;
            match (taken.is_null(), known.get(branch)) {
                (false, _) => taken_heads.insert(branch.clone(), taken.to_string()),
                (true, Some(previous)) => taken_heads.insert(branch.clone(), previous.clone()),
                (true, None) => taken_heads.remove(branch),
            };
        }
        budget -= ids.len();
        let found = ids
            .into_iter()
            .map(|id| new_commit(&repo, id))
            .collect::<anyhow::Result<Vec<_>>>()?;
        pushes.push((branch.clone(), found));
    }
    Ok(Polled {
        heads: taken_heads,
        default_branch: default_branch.map(str::to_owned),
        pushes,
        host_keys: synced.host_keys,
        capped,
    })
}

/// The default branch among `heads`: `stored` while the remote has it, else `head` (the remote's
/// `HEAD` at the first clone; an empty repository's unborn branch may never be pushed), else `main`,
/// `master`, or the first branch. With no branches yet, whatever is known.
fn choose_default(
    stored: Option<&str>,
    head: Option<String>,
    heads: &BTreeMap<String, ObjectId>,
) -> Option<String> {
    if heads.is_empty() {
        return stored.map(str::to_owned).or(head);
    }
    stored
        .map(str::to_owned)
        .into_iter()
        .chain(head)
        .chain(["main".to_owned(), "master".to_owned()])
        .find(|branch| heads.contains_key(branch))
        .or_else(|| heads.keys().next().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_branch_follows_what_the_remote_has() {
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let heads = |names: &[&str]| -> BTreeMap<String, ObjectId> {
            names.iter().map(|n| ((*n).to_owned(), id)).collect()
        };
        let head = || Some("master".to_owned());
        assert_eq!(
            choose_default(None, head(), &heads(&[])),
            head(),
            "empty: HEAD"
        );
        assert_eq!(
            choose_default(Some("develop"), head(), &heads(&["develop", "master"])).as_deref(),
            Some("develop"),
            "the stored one while it exists"
        );
        assert_eq!(
            choose_default(None, head(), &heads(&["main"])).as_deref(),
            Some("main"),
            "HEAD named a branch that was never pushed"
        );
        assert_eq!(
            choose_default(Some("gone"), None, &heads(&["feature", "trunk"])).as_deref(),
            Some("feature")
        );
    }
}
