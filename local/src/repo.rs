//! `dashboard repo add|list|sync`: connect any git remote the scanner's remote policy allows in local
//! mode — https, ssh, git://, file://, http to loopback — or a local path to an organization, list its repositories, and poll them now. The work
//! runs through the jobs the services run (a poll, a scan, linking), drained here before the command
//! returns, so what it prints is what the dashboard shows.

use crate::output::outln;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dashboard_scanner::{mirror, remote::RemotePolicy};
use dashboard_shared::{
    Db, TenantId,
    crypto::{SecretBox, git_credential_context},
    jobs::{self, kinds::PollRepository},
};
use gix::bstr::ByteSlice as _;
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::system::System;

/// `dashboard repo …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Connect a repository by clone URL or local path, then fetch, scan and link it.
    Add(AddArgs),
    /// List an organization's repositories.
    List {
        /// The organization's slug.
        #[arg(long)]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disconnect a repository (name or URL): its projects, tasks, commits and links are deleted.
    Remove {
        /// The organization's slug.
        #[arg(long)]
        tenant: String,
        /// The repository's name or clone URL.
        repository: String,
    },
    /// Poll now: every `git` repository of the organization, or the one named (name or URL).
    Sync {
        /// The organization's slug.
        #[arg(long)]
        tenant: String,
        /// A repository's name or clone URL.
        repository: Option<String>,
    },
}

/// Options of `dashboard repo add`.
#[derive(clap::Args)]
pub struct AddArgs {
    /// The organization's slug.
    #[arg(long)]
    tenant: String,
    /// A clone URL (https://, ssh://, git@host:path, git://, file://) or a local repository's path.
    location: String,
    /// The name to show (default: `owner/name` from the URL, or the directory's name).
    #[arg(long)]
    name: Option<String>,
    /// A file holding an access token for a private HTTPS remote (stored encrypted).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The user name sent with the token (default `git`; some hosts want the account's).
    #[arg(long, requires = "token_file")]
    username: Option<String>,
    /// A file holding an SSH private key (OpenSSH format) for an ssh remote (stored encrypted).
    #[arg(long, value_name = "FILE", conflicts_with = "token_file")]
    ssh_key: Option<PathBuf>,
    /// How often to poll: `30s`, `5m`, `1h` (default 5m).
    #[arg(long, default_value = "5m", value_parser = parse_interval)]
    interval: i32,
}

/// Runs a `repo` command.
pub async fn run(command: Command) -> anyhow::Result<()> {
    let system = System::open().await?;
    let result = match command {
        Command::Add(args) => add(&system, args).await,
        Command::List { tenant, json } => list(&system, &tenant, json).await,
        Command::Sync { tenant, repository } => sync(&system, &tenant, repository.as_deref()).await,
        Command::Remove { tenant, repository } => remove(&system, &tenant, &repository).await,
    };
    system.close().await?;
    result
}

/// A remote as it is stored: a URL without secrets, or an absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// What gix fetches.
    pub url: String,
    /// The name shown.
    pub name: String,
}

impl Remote {
    /// Checks `location` and names it.
    pub fn parse(location: &str) -> anyhow::Result<Self> {
        let path = Path::new(location);
        if path.is_dir() {
            return Self::local(path);
        }
        gix::url::parse(location.as_bytes().as_bstr())
            .map_err(|_| anyhow::anyhow!("`{location}` is neither a directory nor a git URL"))?;
        // The policy every fetch goes through, in local mode (one implementation).
        let url = RemotePolicy::Local.check_url(location)?;
        match url.scheme {
            gix::url::Scheme::File => {
                let path = PathBuf::from(url.path.to_str_lossy().into_owned());
                anyhow::ensure!(path.is_dir(), "no such directory: {}", path.display());
                Self::local(&path)
            }
            gix::url::Scheme::Https
            | gix::url::Scheme::Http
            | gix::url::Scheme::Ssh
            | gix::url::Scheme::Git => {
                anyhow::ensure!(url.host().is_some(), "`{location}` names no host");
                let path = url.path.to_str_lossy();
                let segments: Vec<&str> = path
                    .trim_matches('/')
                    .trim_end_matches(".git")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect();
                anyhow::ensure!(!segments.is_empty(), "`{location}` names no repository");
                let name = segments[segments.len().saturating_sub(2)..].join("/");
                Ok(Self {
                    url: location.to_owned(),
                    name,
                })
            }
            ref other => anyhow::bail!("`{other}` remotes are not supported"),
        }
    }

    /// Whether it is reached over ssh.
    pub fn is_ssh(&self) -> bool {
        gix::url::parse(self.url.as_bytes().as_bstr())
            .is_ok_and(|url| url.scheme == gix::url::Scheme::Ssh)
    }

    fn local(path: &Path) -> anyhow::Result<Self> {
        let path = path
            .canonicalize()
            .with_context(|| format!("cannot read {}", path.display()))?;
        mirror::open(&path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".git").to_owned())
            .unwrap_or_else(|| "repository".into());
        Ok(Self {
            url: path.to_string_lossy().into_owned(),
            name,
        })
    }
}

/// What a private remote wants, as given on the command line.
pub enum Credential {
    /// An access token for an HTTPS remote, with the user name to send.
    Token {
        /// The user name sent with it (`git` when `None`).
        username: Option<String>,
        /// The token.
        token: SecretString,
    },
    /// An SSH private key for an ssh remote.
    SshKey(SecretString),
}

/// Connects `remote` to `tenant` (once: connecting it again returns the same repository, with a new
/// token if one is given) and enqueues its first poll. Returns its id and whether it is new.
pub async fn connect(
    db: &Db,
    secrets: &SecretBox,
    tenant: TenantId,
    remote: &Remote,
    credential: Option<&Credential>,
    interval_seconds: i32,
) -> anyhow::Result<(Uuid, bool)> {
    let mut tx = db.tenant(tenant).await?;
    let existing: Option<Uuid> =
        sqlx::query_scalar("select id from repositories where provider = 'git' and clone_url = $1")
            .bind(&remote.url)
            .fetch_optional(&mut *tx)
            .await?;
    let (id, new) = match existing {
        Some(id) => (id, false),
        None => {
            let (connected, limit): (i64, i32) = sqlx::query_as(
                "select (select count(*) from repositories where not archived), max_repositories
                 from tenants where id = current_tenant_id()",
            )
            .fetch_one(&mut *tx)
            .await?;
            anyhow::ensure!(
                connected < i64::from(limit),
                "the organization's plan allows {limit} repositories and {connected} are connected"
            );
            let id: Uuid = sqlx::query_scalar(
                "insert into repositories (provider, full_name, clone_url, poll_interval_seconds)
                 values ('git', $1, $2, $3) returning id",
            )
            .bind(&remote.name)
            .bind(&remote.url)
            .bind(interval_seconds)
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    if let Some(credential) = credential {
        let (kind, username, secret) = match credential {
            Credential::Token { username, token } => ("token", username.as_deref(), token),
            Credential::SshKey(key) => ("ssh_key", None, key),
        };
        let sealed = secrets.seal(
            secret.expose_secret().as_bytes(),
            &git_credential_context(tenant.as_uuid(), id),
        );
        sqlx::query(
            "update repositories set credential_kind = $2, credential_username = $3,
               credential_encrypted = $4, updated_at = now()
             where id = $1",
        )
        .bind(id)
        .bind(kind)
        .bind(username)
        .bind(sealed)
        .execute(&mut *tx)
        .await?;
    }
    poll_now(&mut tx, id).await?;
    tx.commit().await?;
    Ok((id, new))
}

/// Enqueues a poll of `repository`, due now (one waiting to be retried is brought forward).
async fn poll_now(
    tx: &mut dashboard_shared::TenantTx,
    repository: Uuid,
) -> Result<(), sqlx::Error> {
    jobs::enqueue(tx, &PollRepository { repository }).await?;
    sqlx::query(
        "update jobs set run_at = now() where kind = 'poll_repository' and dedup_key = $1::text
           and status = 'queued' and run_at > now()",
    )
    .bind(repository)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn add(system: &System, args: AddArgs) -> anyhow::Result<()> {
    let tenant = system.tenant(&args.tenant).await?;
    let mut remote = Remote::parse(&args.location)?;
    if let Some(name) = args.name {
        remote.name = name;
    }
    let secret = |file: &Path, what: &str| -> anyhow::Result<SecretString> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the {what} file {}", file.display()))?;
        anyhow::ensure!(
            !text.trim().is_empty(),
            "the {what} file {} is empty",
            file.display()
        );
        Ok(SecretString::from(text.trim().to_owned()))
    };
    let credential = match (&args.token_file, &args.ssh_key) {
        (Some(file), _) => Some(Credential::Token {
            username: args.username.clone(),
            token: secret(file, "token")?,
        }),
        (None, Some(file)) => {
            let key = secret(file, "SSH key")?;
            anyhow::ensure!(
                key.expose_secret().starts_with("-----BEGIN "),
                "{} is not a private key in OpenSSH or PEM format",
                file.display()
            );
            anyhow::ensure!(
                remote.is_ssh(),
                "an SSH key is for ssh remotes (ssh://… or user@host:path)"
            );
            Some(Credential::SshKey(key))
        }
        (None, None) => None,
    };
    let started = std::time::Instant::now();
    let (id, new) = connect(
        &system.db,
        &system.secrets,
        tenant,
        &remote,
        credential.as_ref(),
        args.interval,
    )
    .await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    if let Some(error) = last_failure(&mut tx, id).await? {
        if new {
            // Nothing half-connected stays behind.
            sqlx::query(
                "delete from jobs where payload->>'repository' = $1::text and status = 'queued'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("delete from repositories where id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            anyhow::bail!(
                "{} could not be fetched, so it was not connected: {error}",
                remote.name
            );
        }
        tx.commit().await?;
        anyhow::bail!("{} could not be fetched: {error}", remote.name);
    }
    let summary = summary(&mut tx, id).await?;
    tx.commit().await?;
    outln!(
        "{} {} ({:.1} s): {summary}",
        if new {
            "connected"
        } else {
            "already connected, polled"
        },
        remote.name,
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

async fn sync(system: &System, tenant: &str, repository: Option<&str>) -> anyhow::Result<()> {
    let tenant = system.tenant(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let chosen: Vec<(Uuid, String)> = sqlx::query_as(
        "select id, full_name from repositories
         where provider = 'git' and not archived and ($1::text is null or full_name = $1 or clone_url = $1)
         order by full_name",
    )
    .bind(repository)
    .fetch_all(&mut *tx)
    .await?;
    if chosen.is_empty() {
        anyhow::bail!(match repository {
            Some(name) => format!("no git repository named `{name}` (see `dashboard repo list`)"),
            None =>
                "the organization has no git repository (add one with `dashboard repo add`)".into(),
        });
    }
    for (id, _) in &chosen {
        poll_now(&mut tx, *id).await?;
    }
    tx.commit().await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let mut failed = 0;
    for (id, name) in &chosen {
        match last_failure(&mut tx, *id).await? {
            Some(error) => {
                failed += 1;
                outln!("{name}: could not be fetched: {error}")?;
            }
            None => outln!("{name}: {}", summary(&mut tx, *id).await?)?,
        }
    }
    tx.commit().await?;
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} repositories failed",
        chosen.len()
    );
    Ok(())
}

async fn remove(system: &System, tenant: &str, repository: &str) -> anyhow::Result<()> {
    let tenant = system.tenant(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let removed: Vec<(Uuid, String)> = sqlx::query_as(
        "delete from repositories where full_name = $1 or clone_url = $1 returning id, full_name",
    )
    .bind(repository)
    .fetch_all(&mut *tx)
    .await?;
    match removed.len() {
        0 => anyhow::bail!("no repository named `{repository}` (see `dashboard repo list`)"),
        1 => {}
        n => anyhow::bail!("{n} repositories are named `{repository}`: name one by its URL"),
    }
    sqlx::query("delete from jobs where payload->>'repository' = $1::text and status = 'queued'")
        .bind(removed[0].0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    outln!("removed {}", removed[0].1)?;
    Ok(())
}

/// A repository and what has come of it.
#[derive(sqlx::FromRow, serde::Serialize)]
struct Listed {
    name: String,
    provider: String,
    url: String,
    default_branch: Option<String>,
    branches: i32,
    poll_interval_seconds: i32,
    last_polled_at: Option<chrono::DateTime<chrono::Utc>>,
    has_credential: bool,
    projects: i64,
    tasks: i64,
    tasks_done: i64,
    commits: i64,
    links: i64,
    /// Failed polls or scans since the last success.
    consecutive_failures: i32,
    /// What the last failed one said (`None` once one succeeds).
    last_error: Option<String>,
    /// No scheduled poll or resync before then (backing off after failures).
    retry_after: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last scan could not take in (projects beyond the plan's cap).
    scan_problems: Vec<String>,
}

impl Listed {
    /// `3 branches, 12 commits, 4 projects, 9 tasks (2 done), 7 links`.
    fn summary(&self) -> String {
        format!(
            "{} branches, {} commits, {} projects, {} tasks ({} done), {} links",
            self.branches, self.commits, self.projects, self.tasks, self.tasks_done, self.links
        )
    }

    /// The lines shown under the repository: its failing state and its scan's problems.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(error) = &self.last_error {
            let next = self.retry_after.map_or_else(String::new, |at| {
                format!("; next attempt after {}", at.format("%Y-%m-%d %H:%M:%S"))
            });
            notes.push(format!(
                "failing ({} in a row{next}): {error}",
                self.consecutive_failures
            ));
        }
        notes.extend(self.scan_problems.iter().map(|p| format!("problem: {p}")));
        notes
    }
}

/// The tenant's repositories (or just `only`), by name.
async fn repositories(
    tx: &mut dashboard_shared::TenantTx,
    only: Option<Uuid>,
) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as(
        "select r.full_name as name, r.provider, r.clone_url as url, r.default_branch,
                (select count(*) from jsonb_object_keys(r.branch_heads))::int as branches,
                r.poll_interval_seconds, r.last_polled_at, r.credential_kind is not null as has_credential,
                (select count(*) from projects p where p.repository_id = r.id and p.removed_at is null) as projects,
                (select count(*) from tasks t where t.repository_id = r.id and t.removed_at is null) as tasks,
                (select count(*) from tasks t where t.repository_id = r.id and t.removed_at is null
                   and t.status = 'done') as tasks_done,
                (select count(*) from commits c where c.repository_id = r.id) as commits,
                (select count(*) from commit_task_links l join commits c on c.id = l.commit_id
                   where c.repository_id = r.id and l.state = 'active') as links,
                r.consecutive_failures, r.last_error, r.retry_after, r.scan_problems
         from repositories r where not r.archived and ($1::uuid is null or r.id = $1)
         order by r.full_name, r.clone_url",
    )
    .bind(only)
    .fetch_all(&mut **tx)
    .await
}

/// The summary line of `repository`.
async fn summary(
    tx: &mut dashboard_shared::TenantTx,
    repository: Uuid,
) -> Result<String, sqlx::Error> {
    Ok(repositories(tx, Some(repository))
        .await?
        .first()
        .map(Listed::summary)
        .unwrap_or_default())
}

async fn list(system: &System, tenant: &str, json: bool) -> anyhow::Result<()> {
    let tenant = system.tenant(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let rows = repositories(&mut tx, None).await?;
    tx.commit().await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    if rows.is_empty() {
        outln!("no repositories (add one with `dashboard repo add --tenant SLUG URL|PATH`)")?;
        return Ok(());
    }
    outln!(
        "{:<28} {:<8} {:<10} {:>8} {:>8} {:>8}  {:<20} URL",
        "NAME",
        "PROVIDER",
        "BRANCH",
        "PROJECTS",
        "TASKS",
        "COMMITS",
        "LAST POLLED"
    )?;
    for r in rows {
        let polled = r.last_polled_at.map_or_else(
            || "never".into(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        );
        outln!(
            "{:<28} {:<8} {:<10} {:>8} {:>8} {:>8}  {:<20} {}",
            r.name,
            r.provider,
            r.default_branch.as_deref().unwrap_or_default(),
            r.projects,
            r.tasks,
            r.commits,
            polled,
            r.url
        )?;
        for note in r.notes() {
            outln!("  {note}")?;
        }
    }
    Ok(())
}

/// The error of the repository's last poll or scan, if it failed (a success clears it).
async fn last_failure(
    tx: &mut dashboard_shared::TenantTx,
    repository: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    let last: Option<Option<String>> =
        sqlx::query_scalar("select last_error from repositories where id = $1")
            .bind(repository)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(last.flatten())
}

/// `30s`, `5m`, `1h` or plain seconds, between 30 s and a day.
fn parse_interval(text: &str) -> Result<i32, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let number: i32 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an interval like 30s, 5m or 1h"))?;
    let seconds = match unit {
        "" | "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(|| format!("`{text}` is not an interval like 30s, 5m or 1h"))?;
    if (30..=86_400).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("the interval must be between 30s and 24h".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_remotes_are_checked() {
        assert_eq!(parse_interval("5m"), Ok(300));
        assert_eq!(parse_interval("45"), Ok(45));
        assert_eq!(parse_interval("2h"), Ok(7200));
        assert!(parse_interval("10s").is_err());
        assert!(parse_interval("5 minutes").is_err());

        let github = Remote::parse("https://github.com/acme/widgets.git").unwrap();
        assert_eq!(github.name, "acme/widgets");
        let scp = Remote::parse("git@gitlab.com:group/sub/tool.git").unwrap();
        assert_eq!(scp.name, "sub/tool");
        let secret = Remote::parse("https://me:hunter2@example.com/a/b.git").unwrap_err();
        assert!(!secret.to_string().contains("hunter2"), "{secret}");
        assert!(secret.to_string().contains("--token-file"));
        let token = Remote::parse("https://ghp_token123@github.com/a/b.git").unwrap_err();
        assert!(!token.to_string().contains("ghp_token123"), "{token}");
        assert!(token.to_string().contains("user information"), "{token}");
        let plain = Remote::parse("http://git.example.com/a/b.git").unwrap_err();
        assert_eq!(
            plain.to_string(),
            "plain http is only allowed to loopback; use https"
        );
        assert!(Remote::parse("http://127.0.0.1:9418/a/b.git").is_ok());
        let missing = Remote::parse("/no/such/dir").unwrap_err();
        assert!(
            missing.to_string().contains("no such directory"),
            "{missing}"
        );
        let plain = tempfile::tempdir().unwrap();
        let not_git = Remote::parse(plain.path().to_str().unwrap()).unwrap_err();
        assert!(
            not_git.to_string().contains("not a git repository"),
            "{not_git}"
        );
    }

    #[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
    async fn the_plan_limits_the_repositories_and_a_token_is_stored_sealed(admin: sqlx::PgPool) {
        let tenant = dashboard_shared::testing::create_tenant(&admin, "small").await;
        sqlx::query("update app.tenants set max_repositories = 1 where id = $1")
            .bind(tenant)
            .execute(&admin)
            .await
            .unwrap();
        let db = dashboard_shared::testing::runtime_db(&admin);
        let secrets = SecretBox::from_key(&[9; 32]);
        let remote = |name: &str| Remote {
            url: format!("https://git.example.com/team/{name}.git"),
            name: format!("team/{name}"),
        };
        let token = Credential::Token {
            username: None,
            token: SecretString::from("glpat-sealedToken123".to_owned()),
        };
        let (first, new) = connect(&db, &secrets, tenant, &remote("a"), Some(&token), 300)
            .await
            .unwrap();
        assert!(new);
        let (again, new) = connect(&db, &secrets, tenant, &remote("a"), None, 300)
            .await
            .unwrap();
        assert_eq!((again, new), (first, false), "connected once per URL");
        let refused = connect(&db, &secrets, tenant, &remote("b"), None, 300)
            .await
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the organization's plan allows 1 repositories and 1 are connected"
        );
        let (kind, sealed): (String, Vec<u8>) = sqlx::query_as(
            "select credential_kind, credential_encrypted from app.repositories where id = $1",
        )
        .bind(first)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(kind, "token");
        assert!(!String::from_utf8_lossy(&sealed).contains("glpat"));
        let opened = secrets
            .open(&sealed, &git_credential_context(tenant.as_uuid(), first))
            .unwrap();
        assert_eq!(opened.expose_secret(), "glpat-sealedToken123");
        let polls: i64 =
            sqlx::query_scalar("select count(*) from app.jobs where kind = 'poll_repository'")
                .fetch_one(&admin)
                .await
                .unwrap();
        assert_eq!(polls, 1, "one poll waiting for the repository");
    }
}

#[cfg(test)]
mod listing {
    use dashboard_shared::testing;
    use sqlx::PgPool;

    use super::*;

    #[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
    async fn a_failing_repository_lists_its_error_until_an_attempt_succeeds(admin: PgPool) {
        let tenant = testing::create_tenant(&admin, "acme").await;
        let repository: Uuid = sqlx::query_scalar(
            "insert into app.repositories (tenant_id, provider, full_name, clone_url)
             values ($1, 'git', 'acme/app', '/srv/gone.git') returning id",
        )
        .bind(tenant)
        .fetch_one(&admin)
        .await
        .unwrap();
        let db = testing::runtime_db(&admin);
        let failed = anyhow::anyhow!("the repository /srv/gone.git does not exist");
        let finish = dashboard_scanner::attempt::finish;
        assert!(finish(&db, tenant, repository, Err(failed)).await.is_err());

        let mut tx = db.tenant(tenant).await.unwrap();
        let listed = repositories(&mut tx, None).await.unwrap();
        let json = serde_json::to_value(&listed).unwrap();
        assert_eq!(json[0]["consecutive_failures"], 1);
        assert_eq!(
            json[0]["last_error"],
            "the repository /srv/gone.git does not exist"
        );
        assert!(json[0]["retry_after"].is_string(), "{json}");
        let notes = listed[0].notes();
        assert!(
            notes.len() == 1
                && notes[0].starts_with("failing (1 in a row; next attempt after ")
                && notes[0].ends_with("): the repository /srv/gone.git does not exist"),
            "{notes:?}"
        );
        assert!(last_failure(&mut tx, repository).await.unwrap().is_some());
        tx.commit().await.unwrap();

        finish(&db, tenant, repository, Ok(())).await.unwrap();
        let mut tx = db.tenant(tenant).await.unwrap();
        let listed = repositories(&mut tx, None).await.unwrap();
        let json = serde_json::to_value(&listed).unwrap();
        assert_eq!(json[0]["consecutive_failures"], 0);
        assert!(json[0]["last_error"].is_null() && json[0]["retry_after"].is_null());
        assert!(listed[0].notes().is_empty());
        assert_eq!(last_failure(&mut tx, repository).await.unwrap(), None);
    }
}
