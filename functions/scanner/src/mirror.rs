//! Bare mirrors of connected repositories, kept between scans so that a repository is fetched, not
//! cloned again: `<mirrors>/<tenant>/<repository>.git`, and submodules' under
//! `<mirrors>/<tenant>/modules/<sha256 of the URL>.git`. Every fetch goes through a [`Fetcher`]: the
//! remote policy ([`crate::remote`]) first, then gix opened isolated from the machine's git and ssh
//! configuration, credentials offered only to the remote's own origin, an interrupt of its own and a
//! cap on the pack bytes received ([`crate::limit`]). A clone is made beside the mirror and renamed
//! into place, so a failed one never removes a mirror another attempt uses.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::atomic::AtomicBool,
};

use anyhow::Context as _;
use gix::{
    ObjectId, bstr::ByteSlice as _, protocol::transport::client::blocking_io::http,
    remote::Direction,
};
use sha2::{Digest as _, Sha256};

pub use crate::credentials::Credentials;
use crate::{
    credentials::credential_callback,
    interrupt,
    remote::{self, Checked, FetchPolicy, RemotePolicy},
    ssh::SshCommand,
};

/// Where `repository` of `tenant` is mirrored under `root`.
pub fn mirror_path(root: &Path, tenant: uuid::Uuid, repository: uuid::Uuid) -> PathBuf {
    root.join(tenant.to_string())
        .join(format!("{repository}.git"))
}

/// Where the submodule at `url` is mirrored for `tenant` under `root`.
pub fn module_path(root: &Path, tenant: uuid::Uuid, url: &str) -> PathBuf {
    url_path(&root.join(tenant.to_string()).join("modules"), url)
}

/// Where the repository at `url` is mirrored in `dir`: named by the URL's SHA-256.
pub fn url_path(dir: &Path, url: &str) -> PathBuf {
    dir.join(format!(
        "{}.git",
        hex::encode(Sha256::digest(url.as_bytes()))
    ))
}

/// Whether the repository at `repository` holds `commit`.
pub fn has_commit(repository: &Path, commit: &str) -> bool {
    open(repository).is_ok_and(|repo| {
        gix::ObjectId::from_hex(commit.as_bytes()).is_ok_and(|id| repo.find_object(id).is_ok())
    })
}

/// One fetch's settings: the policy and caps, the credential, the pinned SSH host keys and the
/// job's interrupt.
#[derive(Clone, Copy)]
pub struct Fetcher<'a> {
    /// Which remotes may be fetched, and the caps.
    pub policy: &'a FetchPolicy,
    /// What the remote wants, if private.
    pub credentials: Option<&'a Credentials>,
    /// The SSH host keys pinned for the repository (`known_hosts` lines), if any.
    pub host_keys: Option<&'a str>,
    /// Set when the job is given up.
    pub interrupt: &'a AtomicBool,
}

/// What a sync found.
#[derive(Debug)]
pub struct Synced {
    /// The remote's branches and their commits.
    pub branches: BTreeMap<String, ObjectId>,
    /// The SSH host keys met on first contact, to pin in the repository row.
    pub host_keys: Option<String>,
}

impl<'a> Fetcher<'a> {
    /// Clones `url` into `mirror` (bare) if absent, else fetches every branch and tag into it;
    /// branches the remote no longer has are deleted from the mirror. Blocking.
    pub fn sync(&self, mirror: &Path, url: &str) -> anyhow::Result<Synced> {
        let checked = self.policy.remotes.check(url)?;
        if matches!(self.credentials, Some(Credentials::SshKey(_))) {
            anyhow::ensure!(
                checked.url.scheme == gix::url::Scheme::Ssh,
                "an SSH key is for ssh remotes (ssh://… or user@host:path), not {}",
                checked.url.scheme
            );
        }
        let ssh = self.ssh_command(&checked)?;
        let overrides: Vec<String> = ssh.iter().map(SshCommand::config_override).collect();
        let result = if mirror.join("HEAD").exists() {
            self.fetch(mirror, &checked, overrides)
        } else {
            self.clone(mirror, &checked, overrides)
        };
        match ssh {
            Some(ssh) => match result {
                Ok(branches) => Ok(Synced {
                    branches,
                    host_keys: ssh.learned(),
                }),
                Err(error) => Err(ssh.explain(error)),
            },
            None => result.map(|branches| Synced {
                branches,
                host_keys: None,
            }),
        }
    }

    /// The fetcher of a submodule at `sub` of the repository at `parent`: the repository's
    /// credential only when the submodule is on its origin (scheme, host and port).
    pub fn for_submodule(&self, parent: &str, sub: &str) -> Self {
        let url = |u: &str| gix::Url::from_bytes(u.into()).ok();
        let own = url(parent)
            .zip(url(sub))
            .is_some_and(|(parent, sub)| remote::same_origin(&parent, &sub));
        Self {
            credentials: self.credentials.filter(|_| own),
            ..*self
        }
    }

    /// Makes sure `mirror` holds `commit`: fetched from `url` only when it does not yet.
    pub fn ensure_commit(&self, mirror: &Path, url: &str, commit: &str) -> anyhow::Result<()> {
        if !has_commit(mirror, commit) {
            self.sync(mirror, url)?;
        }
        Ok(())
    }

    fn ssh_command(&self, checked: &Checked) -> anyhow::Result<Option<SshCommand>> {
        if checked.url.scheme != gix::url::Scheme::Ssh {
            return Ok(None);
        }
        let key = match self.credentials {
            Some(Credentials::SshKey(key)) => Some(key),
            _ => None,
        };
        let host = checked.url.host().unwrap_or_default();
        let address = checked.addresses.first().copied();
        let program = &self.policy.ssh_program;
        SshCommand::new(program, host, address, key, self.host_keys).map(Some)
    }

    fn fetch(
        &self,
        mirror: &Path,
        checked: &Checked,
        overrides: Vec<String>,
    ) -> anyhow::Result<BTreeMap<String, ObjectId>> {
        let repo = gix::open_opts(mirror, isolated().config_overrides(overrides))
            .with_context(|| format!("the mirror {} is damaged", mirror.display()))?;
        let remote = repo.remote_at(checked.url.clone())?.with_refspecs(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            Direction::Fetch,
        )?;
        let mut connection = remote
            .connect(Direction::Fetch)
            .context("failed to reach the repository")?;
        self.connection_setup(checked)(&mut connection)?;
        let outcome = interrupt::bounded(
            mirror,
            self.policy.max_mirror_bytes,
            self.interrupt,
            |stop| {
                connection
                    .prepare_fetch(gix::progress::Discard, Default::default())
                    .context("failed to reach the repository")?
                    .receive(gix::progress::Discard, stop)
                    .context("fetch failed")
            },
        )?;
        let branches = branches(&outcome.ref_map.remote_refs);
        for reference in repo.references()?.local_branches()? {
            let reference = reference.map_err(|e| anyhow::anyhow!(e))?;
            let name = reference.name().shorten().to_string();
            if !branches.contains_key(&name) {
                reference
                    .delete()
                    .context("cannot prune a deleted branch")?;
            }
        }
        Ok(branches)
    }

    /// Clones into a new directory beside `mirror`, then renames it into place.
    fn clone(
        &self,
        mirror: &Path,
        checked: &Checked,
        overrides: Vec<String>,
    ) -> anyhow::Result<BTreeMap<String, ObjectId>> {
        let parent = mirror.parent().context("a mirror has a parent directory")?;
        std::fs::create_dir_all(parent)?;
        let staging = parent.join(format!(
            ".{}.{}.clone",
            mirror.file_name().unwrap_or_default().to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        ));
        let cloned = (|| {
            let mut setup = self.connection_setup(checked);
            let mut clone = gix::clone::PrepareFetch::new(
                checked.url.clone(),
                &staging,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
                isolated().config_overrides(overrides),
            )
            .context("cannot clone from this URL")?
            .configure_connection(move |connection| setup(connection));
            let (_, outcome) = interrupt::bounded(
                &staging,
                self.policy.max_mirror_bytes,
                self.interrupt,
                |stop| {
                    clone
                        .fetch_only(gix::progress::Discard, stop)
                        .map_err(|e| anyhow::Error::new(e).context("clone failed"))
                },
            )?;
            anyhow::Ok(branches(&outcome.ref_map.remote_refs))
        })();
        let placed = cloned.and_then(|branches| match std::fs::rename(&staging, mirror) {
            Ok(()) => Ok(branches),
            // Another attempt placed its clone first: it serves as well.
            Err(_) if mirror.join("HEAD").exists() => Ok(branches),
            Err(error) => {
                Err(anyhow::Error::new(error).context("cannot move the clone into place"))
            }
        });
        let _ = std::fs::remove_dir_all(&staging);
        placed
    }

    /// What every connection gets before it talks to the remote: the credential callback (only for
    /// the remote's origin) and, on Cloud Run, HTTP name resolution through the address policy.
    fn connection_setup(
        &self,
        checked: &Checked,
    ) -> impl FnMut(&mut Connection<'_, '_, '_>) -> gix::Result + 'static {
        let basic = match self.credentials {
            Some(Credentials::Basic { username, password }) => {
                Some((username.clone(), password.clone()))
            }
            _ => None,
        };
        let (origin, policy) = (checked.url.clone(), self.policy.remotes);
        move |connection| {
            connection.set_credentials(credential_callback(origin.clone(), basic.clone()));
            if policy == RemotePolicy::Hosted
                && matches!(
                    origin.scheme,
                    gix::url::Scheme::Https | gix::url::Scheme::Http
                )
            {
                let options = connection
                    .remote()
                    .repo()
                    .transport_options(origin.to_bstring().as_bstr(), None)?
                    .and_then(|o| o.downcast::<http::Options>().ok())
                    .unwrap_or_default();
                connection.set_transport_options(Box::new(remote::hosted_http(*options)));
            }
            Ok(())
        }
    }
}

/// A connection as gix makes it for a fetch or a clone.
type Connection<'a, 'b, 'c> = gix::remote::Connection<
    'a,
    'b,
    'c,
    Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
>;

/// gix's open options for mirrors and repositories read: only the repository's own configuration
/// (no system or global configuration, no environment, so no credential helpers, URL rewrites or
/// ssh command from the machine).
pub fn isolated() -> gix::open::Options {
    gix::open::Options::isolated()
}

/// Opens the repository at `path`, isolated.
pub fn open(path: &Path) -> anyhow::Result<gix::Repository> {
    gix::open_opts(path, isolated())
        .with_context(|| format!("{} is not a git repository", path.display()))
}

/// The branches among the refs a remote advertised.
fn branches(refs: &[gix::protocol::handshake::Ref]) -> BTreeMap<String, ObjectId> {
    refs.iter()
        .filter_map(|r| {
            let (name, target, _) = r.unpack();
            let branch = name.to_str().ok()?.strip_prefix("refs/heads/")?;
            Some((branch.to_owned(), target?.to_owned()))
        })
        .collect()
}

/// The branch the mirror's `HEAD` names (the remote's default branch when it was cloned).
pub fn head_branch(mirror: &Path) -> Option<String> {
    let repo = open(mirror).ok()?;
    let head = repo.head_name().ok()??;
    Some(head.shorten().to_string())
}
