//! A PostgreSQL cluster of our own, for `dashboard up` and the test script, made with the machine's
//! `initdb` and `pg_ctl`. It listens on 127.0.0.1 only, on a port chosen when it is created.
//!
//! Layout of the cluster directory: `data/` (PGDATA, with `server.log`), `port`, and for a
//! password-protected cluster `superuser-password` (mode 0600). PostgreSQL refuses to run as root,
//! so as root the server runs as the `postgres` OS user and `data/` belongs to it.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _, chown},
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context as _, bail};

/// How clients authenticate to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// SCRAM passwords; the superuser's is generated and kept in the cluster directory.
    Password,
    /// Anyone on loopback may connect as any role: only for throwaway test clusters.
    Trust,
}

/// The server binaries this machine has.
#[derive(Debug)]
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl Binaries {
    /// `initdb` and `pg_ctl` from PATH, else from the newest `/usr/lib/postgresql/*/bin`.
    fn find() -> anyhow::Result<Self> {
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        Self::find_in(path, Path::new("/usr/lib/postgresql"))
    }

    fn find_in(mut dirs: Vec<PathBuf>, versions_root: &Path) -> anyhow::Result<Self> {
        let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir(versions_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
        let find = |name: &str| {
            dirs.iter()
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        };
        match (find("initdb"), find("pg_ctl")) {
            (Some(initdb), Some(pg_ctl)) => Ok(Self { initdb, pg_ctl }),
            _ => bail!(
                "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or in \
                 /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`; \
                 Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql@15`), \
                 or set DATABASE_URL to a server you already run."
            ),
        }
    }
}

/// A cluster directory and how to drive it.
#[derive(Debug)]
pub struct Cluster {
    root: PathBuf,
    auth: Auth,
    binaries: Binaries,
    /// `Some((uid, gid))` of the `postgres` OS user when we are root.
    run_as: Option<(u32, u32)>,
}

impl Cluster {
    /// The cluster under `root` (created on [`Cluster::start`] if absent).
    pub fn new(root: &Path, auth: Auth) -> anyhow::Result<Self> {
        let binaries = Binaries::find()?;
        fs::create_dir_all(root).with_context(|| format!("failed to create {}", root.display()))?;
        let root = root.canonicalize()?;
        let run_as = if is_root()? {
            Some(postgres_user()?)
        } else {
            None
        };
        Ok(Self {
            root,
            auth,
            binaries,
            run_as,
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn port_file(&self) -> PathBuf {
        self.root.join("port")
    }

    fn password_file(&self) -> PathBuf {
        self.root.join("superuser-password")
    }

    /// Creates the cluster if needed and starts it if it is not running. Returns the superuser's
    /// URL for `database`.
    pub fn start(&self, database: &str) -> anyhow::Result<String> {
        if !self.data_dir().join("PG_VERSION").exists() {
            self.init()?;
        }
        if !self.is_running()? {
            let data = self.data_dir();
            let log = data.join("server.log");
            self.run(
                Command::new(&self.binaries.pg_ctl)
                    .arg("start")
                    .args(["-w", "-t", "60", "-D"])
                    .arg(&data)
                    .arg("-l")
                    .arg(&log),
            )
            .with_context(|| format!("PostgreSQL did not start; its log is {}", log.display()))?;
        }
        self.url(database)
    }

    /// Stops the server (fast mode: open sessions are ended, nothing committed is lost).
    pub fn stop(&self) -> anyhow::Result<()> {
        if self.is_running()? {
            self.run(
                Command::new(&self.binaries.pg_ctl)
                    .args(["stop", "-w", "-m", "fast", "-D"])
                    .arg(self.data_dir()),
            )?;
        }
        Ok(())
    }

    /// The superuser's URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> anyhow::Result<String> {
        let port = fs::read_to_string(self.port_file()).context("the cluster has no port file")?;
        let port = port.trim();
        Ok(match self.auth {
            Auth::Trust => format!("postgres://postgres@127.0.0.1:{port}/{database}"),
            Auth::Password => {
                let password = fs::read_to_string(self.password_file())?;
                format!(
                    "postgres://postgres:{}@127.0.0.1:{port}/{database}",
                    password.trim()
                )
            }
        })
    }

    /// Whether the cluster's server is running.
    pub fn is_running(&self) -> anyhow::Result<bool> {
        if !self.data_dir().join("PG_VERSION").exists() {
            return Ok(false);
        }
        let status = self
            .command(
                Command::new(&self.binaries.pg_ctl)
                    .arg("status")
                    .arg("-D")
                    .arg(self.data_dir()),
            )
            .output()
            .context("failed to run pg_ctl status")?;
        Ok(status.status.success())
    }

    fn init(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        tracing::info!(data_dir = %data.display(), "creating a PostgreSQL cluster");
        fs::create_dir_all(&data)?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = self.run_as {
            // The postgres user must be able to reach its data directory through ours.
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o711))?;
            chown(&data, Some(uid), Some(gid))?;
            self.check_reachable(&data)?;
        }
        let mut initdb = Command::new(&self.binaries.initdb);
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--no-locale"]);
        let password_file = self.root.join("initdb-password");
        match self.auth {
            Auth::Trust => {
                initdb.args(["--auth=trust", "--no-sync"]);
            }
            Auth::Password => {
                let password = random_secret();
                write_private(&self.password_file(), &password)?;
                write_private(&password_file, &password)?;
                if let Some((uid, gid)) = self.run_as {
                    chown(&password_file, Some(uid), Some(gid))?;
                }
                initdb
                    .arg("--auth=scram-sha-256")
                    .arg(format!("--pwfile={}", password_file.display()));
            }
        }
        let result = self.run(&mut initdb).context("initdb failed");
        let _ = fs::remove_file(&password_file);
        result?;

        let port = free_port()?;
        let mut settings = format!(
            "\n# dashboard: a private cluster on loopback\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = ''\nmax_connections = 200\n"
        );
        if self.auth == Auth::Trust {
            // A throwaway test cluster: durability buys nothing.
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?
            .write_all(settings.as_bytes())?;
        fs::write(self.port_file(), port.to_string())?;
        Ok(())
    }

    fn check_reachable(&self, data: &Path) -> anyhow::Result<()> {
        let reachable = self
            .command(Command::new("test").arg("-w").arg(data))
            .status()
            .is_ok_and(|status| status.success());
        if !reachable {
            bail!(
                "the postgres OS user cannot reach {}: one of its parent directories is closed to \
                 other users. Choose a directory it can reach, such as one under /tmp (for \
                 `dashboard up`, set DASHBOARD_DATA_DIR).",
                data.display()
            );
        }
        Ok(())
    }

    /// `command`, run as the postgres OS user when we are root.
    fn command(&self, command: &Command) -> Command {
        let mut wrapped = if self.run_as.is_some() {
            let mut runuser = Command::new("runuser");
            runuser
                .args(["-u", "postgres", "--"])
                .arg(command.get_program());
            runuser
        } else {
            Command::new(command.get_program())
        };
        wrapped.args(command.get_args());
        wrapped
    }

    fn run(&self, command: &mut Command) -> anyhow::Result<()> {
        let output = self.command(command).output().with_context(|| {
            format!("failed to run {}", command.get_program().to_string_lossy())
        })?;
        if output.status.success() {
            Ok(())
        } else {
            bail!(
                "{} exited with {}: {}",
                command.get_program().to_string_lossy(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
        }
    }
}

/// 256 random bits as hex, for generated passwords.
pub fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Writes `contents` to `path`, readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

fn is_root() -> anyhow::Result<bool> {
    Ok(id(&["-u"])? == 0)
}

fn postgres_user() -> anyhow::Result<(u32, u32)> {
    let user = id(&["-u", "postgres"]).context(
        "running as root, PostgreSQL must run as the `postgres` OS user, which does not exist \
         (installing the postgresql package creates it)",
    )?;
    Ok((user, id(&["-g", "postgres"])?))
}

fn id(args: &[&str]) -> anyhow::Result<u32> {
    let output = Command::new("id")
        .args(args)
        .output()
        .context("failed to run `id`")?;
    if !output.status.success() {
        bail!("`id {}` failed", args.join(" "));
    }
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_programs_name_the_package_to_install() {
        let nowhere = std::env::temp_dir().join("dashboard-no-such-dir");
        let error = Binaries::find_in(vec![nowhere.clone()], &nowhere)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("initdb") && error.contains("apt-get install postgresql"),
            "{error}"
        );
    }

    #[test]
    fn the_newest_versioned_install_wins_after_path() {
        let root = std::env::temp_dir().join(format!("dashboard-pg-{}", random_secret()));
        for version in ["13", "16", "9"] {
            let bin = root.join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            fs::write(bin.join("initdb"), "").unwrap();
            fs::write(bin.join("pg_ctl"), "").unwrap();
        }
        let found = Binaries::find_in(vec![], &root).unwrap();
        assert_eq!(found.initdb, root.join("16/bin/initdb"));
        fs::remove_dir_all(&root).unwrap();
    }
}
