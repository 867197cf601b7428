//! Bare mirrors of connected repositories, kept between scans so that a repository is fetched, not
//! cloned again: `<mirrors>/<tenant>/<repository>.git`, and submodules' under
//! `<mirrors>/<tenant>/modules/<sha256 of the URL>.git`. Cloned and fetched with gix over file paths,
//! `file://`, `git://`, `http(s)://` (GitHub with an installation token as the password) and `ssh://`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use gix::{ObjectId, bstr::ByteSlice as _, remote::Direction};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

/// What a private remote wants; never logged.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// HTTP Basic: a user name and a password or token (GitHub: `x-access-token` and an
    /// installation token).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: SecretString,
    },
    /// An SSH private key (OpenSSH format) for `ssh://` and `user@host:path` remotes, handed to
    /// `ssh` (or `$DASHBOARD_SSH`) in a file only its owner reads, for the length of one fetch.
    SshKey(SecretString),
}

impl Credentials {
    /// What GitHub wants for a GitHub App installation token.
    pub fn github_installation(token: SecretString) -> Self {
        Self::Basic {
            username: "x-access-token".into(),
            password: token,
        }
    }

    /// The credential callback of an HTTP connection (`None` for an SSH key).
    fn helper(
        &self,
    ) -> Option<
        impl FnMut(
            gix::credentials::helper::Action,
        ) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
        + use<>,
    > {
        let Self::Basic { username, password } = self else {
            return None;
        };
        let (username, password) = (username.clone(), password.expose_secret().to_owned());
        Some(move |action| match action {
            gix::credentials::helper::Action::Get(context) => {
                Ok(Some(gix::credentials::protocol::Outcome {
                    identity: gix::sec::identity::Account {
                        username: username.clone(),
                        password: password.clone(),
                        oauth_refresh_token: None,
                    },
                    next: context.into(),
                }))
            }
            _ => Ok(None),
        })
    }
}

/// An SSH key in a private file, removed when dropped, and the `core.sshCommand` that uses it.
struct SshIdentity {
    key_file: PathBuf,
    command: String,
}

impl SshIdentity {
    fn new(key: &SecretString, mirror: &Path) -> anyhow::Result<Self> {
        use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
        let key_file =
            std::env::temp_dir().join(format!("dashboard-ssh-{}", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_file)
            .context("cannot write the SSH key file")?;
        // From here on, dropping it removes the file.
        let mut identity = Self {
            command: String::new(),
            key_file,
        };
        let key = key.expose_secret().trim_end();
        file.write_all(format!("{key}\n").as_bytes())?;
        // Host keys are trusted on first use and pinned beside the mirror from then on.
        let known_hosts = mirror.with_extension("known_hosts");
        let program = std::env::var("DASHBOARD_SSH").unwrap_or_else(|_| "ssh".into());
        identity.command = format!(
            "{program} -i '{}' -o IdentitiesOnly=yes -o BatchMode=yes \
             -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile='{}'",
            identity.key_file.display(),
            known_hosts.display()
        );
        Ok(identity)
    }

    fn config_override(&self) -> String {
        format!("core.sshCommand={}", self.command)
    }
}

impl Drop for SshIdentity {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.key_file);
    }
}

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
    gix::open(repository).is_ok_and(|repo| {
        gix::ObjectId::from_hex(commit.as_bytes()).is_ok_and(|id| repo.find_object(id).is_ok())
    })
}

/// Refuses to send credentials where they could be read on the way: over plain `http://` to anything
/// but the loopback interface.
fn check_transport(url: &str, credentials: &Credentials) -> anyhow::Result<()> {
    let parsed = gix::Url::from_bytes(url.into()).context("not a repository URL")?;
    if matches!(credentials, Credentials::SshKey(_)) {
        anyhow::ensure!(
            parsed.scheme == gix::url::Scheme::Ssh,
            "an SSH key is for ssh remotes (ssh://… or user@host:path), not {}",
            parsed.scheme
        );
        return Ok(());
    }
    let loopback = matches!(
        parsed.host(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    anyhow::ensure!(
        parsed.scheme != gix::url::Scheme::Http || loopback,
        "refusing to send credentials over plain http to {}",
        parsed.host().unwrap_or("?")
    );
    Ok(())
}

/// Clones `url` into `mirror` (bare) if absent, else fetches every branch and tag into it; branches
/// the remote no longer has are deleted from the mirror. Returns the remote's branches and their
/// commits. Blocking: run it on a blocking thread.
pub fn sync(
    mirror: &Path,
    url: &str,
    credentials: Option<&Credentials>,
) -> anyhow::Result<BTreeMap<String, ObjectId>> {
    if let Some(credentials) = credentials {
        check_transport(url, credentials)?;
    }
    let ssh = match credentials {
        Some(Credentials::SshKey(key)) => Some(SshIdentity::new(key, mirror)?),
        _ => None,
    };
    let overrides: Vec<String> = ssh.iter().map(SshIdentity::config_override).collect();
    let interrupt = &gix::interrupt::IS_INTERRUPTED;
    if mirror.join("HEAD").exists() {
        let repo = gix::open_opts(
            mirror,
            gix::open::Options::default().config_overrides(overrides),
        )
        .with_context(|| format!("the mirror {} is damaged", mirror.display()))?;
        let remote = repo.remote_at(url)?.with_refspecs(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            Direction::Fetch,
        )?;
        let mut connection = remote
            .connect(Direction::Fetch)
            .context("failed to reach the repository")?;
        if let Some(helper) = credentials.and_then(Credentials::helper) {
            connection.set_credentials(helper);
        }
        let outcome = connection
            .prepare_fetch(gix::progress::Discard, Default::default())
            .context("failed to reach the repository")?
            .receive(gix::progress::Discard, interrupt)
            .context("fetch failed")?;
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
    } else {
        std::fs::create_dir_all(mirror.parent().unwrap_or(mirror))?;
        let mut clone = if overrides.is_empty() {
            gix::prepare_clone_bare(url, mirror)
        } else {
            gix::clone::PrepareFetch::new(
                url,
                mirror,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
                gix::open::Options::default().config_overrides(overrides),
            )
        }
        .context("cannot clone from this URL")?;
        if let Some(credentials) = credentials.cloned() {
            clone = clone.configure_connection(move |connection| {
                if let Some(helper) = credentials.helper() {
                    connection.set_credentials(helper);
                }
                Ok(())
            });
        }
        match clone.fetch_only(gix::progress::Discard, interrupt) {
            Ok((_, outcome)) => Ok(branches(&outcome.ref_map.remote_refs)),
            Err(error) => {
                // Leave nothing half-made behind: the next attempt clones afresh.
                let _ = std::fs::remove_dir_all(mirror);
                Err(anyhow::Error::new(error).context("clone failed"))
            }
        }
    }
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
    let repo = gix::open(mirror).ok()?;
    let head = repo.head_name().ok()??;
    Some(head.shorten().to_string())
}

/// Makes sure `mirror` holds `commit`: fetched from `url` only when it does not yet.
pub fn ensure_commit(
    mirror: &Path,
    url: &str,
    commit: &str,
    credentials: Option<&Credentials>,
) -> anyhow::Result<()> {
    if !has_commit(mirror, commit) {
        sync(mirror, url, credentials)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::{Credentials, check_transport};

    #[test]
    fn credentials_never_travel_over_plain_http_off_the_machine() {
        let token = Credentials::github_installation(SecretString::from("t"));
        assert!(check_transport("https://github.com/acme/widgets.git", &token).is_ok());
        assert!(check_transport("http://127.0.0.1:8080/acme/widgets.git", &token).is_ok());
        let refused = check_transport("http://github.com/acme/widgets.git", &token).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "refusing to send credentials over plain http to github.com"
        );
        let key = Credentials::SshKey(SecretString::from("k"));
        assert!(check_transport("git@github.com:acme/widgets.git", &key).is_ok());
        assert!(check_transport("https://github.com/acme/widgets.git", &key).is_err());
    }
}
