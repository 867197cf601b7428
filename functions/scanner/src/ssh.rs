//! The `ssh` command of one fetch, isolated from the machine's ssh set-up: no configuration file
//! (`-F /dev/null`), no agent, no default identities, batch mode; the repository's key (if any) in a
//! file only its owner reads; and host keys pinned in the repository row. On first contact
//! (nothing pinned) the server's key is accepted and handed back to be pinned
//! ([`SshCommand::learned`]); from then on every instance checks it strictly, and a changed key fails
//! the fetch with [`SshCommand::explain`]'s error. All files are removed when it is dropped.

use std::{io::Write as _, net::IpAddr, path::Path};

use anyhow::Context as _;
use dashboard_shared::TenantTx;
use secrecy::{ExposeSecret as _, SecretString};
use tempfile::NamedTempFile;

/// What ssh prints when a pinned host key does not match.
const CHANGED: [&str; 2] = [
    "REMOTE HOST IDENTIFICATION HAS CHANGED",
    "Host key verification failed",
];

/// The `core.sshCommand` of one fetch and its private files.
pub(crate) struct SshCommand {
    command: String,
    host: String,
    pinned: bool,
    known_hosts: NamedTempFile,
    log: NamedTempFile,
    _key: Option<NamedTempFile>,
}

impl SshCommand {
    /// The command running `program` for `host` (connecting to `address` when given: the address
    /// the policy checked), with `key` as the only identity and `pinned` (known_hosts lines) as the
    /// only host keys.
    pub(crate) fn new(
        program: &str,
        host: &str,
        address: Option<IpAddr>,
        key: Option<&SecretString>,
        pinned: Option<&str>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !host.is_empty()
                && !host.starts_with('-')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c)),
            "not a host name ssh can be given"
        );
        let private = |prefix: &str| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempfile()
                .context("cannot write a private file for ssh")
        };
        let key = match key {
            Some(key) => {
                let mut file = private("dashboard-ssh-")?;
                writeln!(file, "{}", key.expose_secret().trim_end())?;
                Some(file)
            }
            None => None,
        };
        let mut known_hosts = private("dashboard-known-hosts-")?;
        let pinned = pinned.map(str::trim).filter(|p| !p.is_empty());
        if let Some(lines) = pinned {
            writeln!(known_hosts, "{lines}")?;
        }
        let log = private("dashboard-ssh-log-")?;
        let identity = key
            .as_ref()
            .map_or("/dev/null".into(), |k| quoted(k.path()));
        let mut command = format!(
            "{program} -i {identity} -F /dev/null -E {} -o IdentityAgent=none -o BatchMode=yes \
             -o IdentitiesOnly=yes -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
             -o StrictHostKeyChecking={} -o HostKeyAlias={host} -o CheckHostIP=no",
            quoted(log.path()),
            quoted(known_hosts.path()),
            if pinned.is_some() {
                "yes"
            } else {
                "accept-new"
            },
        );
        if let Some(address) = address {
            command.push_str(&format!(" -o HostName={address}"));
        }
        Ok(Self {
            command,
            host: host.to_owned(),
            pinned: pinned.is_some(),
            known_hosts,
            log,
            _key: key,
        })
    }

    /// The configuration override that makes gix use it.
    pub(crate) fn config_override(&self) -> String {
        format!("core.sshCommand={}", self.command)
    }

    /// The host keys met on first contact, to pin (`None` when they were pinned already or ssh
    /// wrote none).
    pub(crate) fn learned(&self) -> Option<String> {
        if self.pinned {
            return None;
        }
        let text = std::fs::read_to_string(self.known_hosts.path()).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// A clearer error for a failed fetch: a pinned host key that no longer matches says so.
    pub(crate) fn explain(&self, error: anyhow::Error) -> anyhow::Error {
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        if self.pinned && CHANGED.iter().any(|m| log.contains(m)) {
            return error.context(format!(
                "the SSH host key of {} is not the one pinned when the repository was connected: \
                 refusing to fetch (if the server's key really changed, remove the repository and connect it again)",
                self.host
            ));
        }
        error
    }
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Pins `keys` as the host keys of `repository`, unless some are pinned already.
pub(crate) async fn pin_host_keys(
    tx: &mut TenantTx,
    repository: uuid::Uuid,
    keys: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories set ssh_host_keys = $2, updated_at = now()
         where id = $1 and ssh_host_keys is null",
    )
    .bind(repository)
    .bind(keys)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
