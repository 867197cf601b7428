//! `dashboard repo add|list|remove|sync`: connect any git remote the remote policy allows in local
//! mode — https, ssh, git://, file://, http to loopback — or a local path to an organization, list
//! its repositories, disconnect one, and poll them now. Each is the API's own function
//! (`dashboard_api::api::repositories::db`, as `POST /api/v2/orgs/{org}/repositories` and the rest
//! call them); the work runs through the jobs the services run (a poll, a scan, linking), drained
//! here before the command returns, so what it prints is what the dashboard shows.

use crate::output::outln;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dashboard_api::api::repositories::{
    db::{self, Connected, Connection},
    model::{NewRepository, Repository, RepositoryFilter},
};
use dashboard_scanner::mirror;
use dashboard_shared::{TenantId, TenantTx, domain::Provider, remote::RemotePolicy};

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

async fn add(system: &System, args: AddArgs) -> anyhow::Result<()> {
    let tenant = system.tenant(&args.tenant).await?;
    let secret = |file: &Path, what: &str| -> anyhow::Result<String> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the {what} file {}", file.display()))?;
        anyhow::ensure!(
            !text.trim().is_empty(),
            "the {what} file {} is empty",
            file.display()
        );
        Ok(text.trim().to_owned())
    };
    let new = NewRepository {
        url: args.location,
        name: args.name,
        token: args
            .token_file
            .as_deref()
            .map(|file| secret(file, "token"))
            .transpose()?,
        username: args.username,
        ssh_key: args
            .ssh_key
            .as_deref()
            .map(|file| secret(file, "SSH key"))
            .transpose()?,
        poll_interval: Some(args.interval),
    };
    let started = std::time::Instant::now();
    let (name, connected) = connect(system, tenant, new).await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let repository = db::find_repository(&mut tx, connected.id)
        .await?
        .context("the repository is gone")?;
    if let Some(error) = &repository.health.last_error {
        if connected.new {
            // Nothing half-connected stays behind.
            db::disconnect_repository(&mut tx, connected.id).await?;
            tx.commit().await?;
            anyhow::bail!("{name} could not be fetched, so it was not connected: {error}");
        }
        tx.commit().await?;
        anyhow::bail!("{name} could not be fetched: {error}");
    }
    tx.commit().await?;
    outln!(
        "{} {name} ({:.1} s): {}",
        if connected.new {
            "connected"
        } else {
            "already connected, polled"
        },
        started.elapsed().as_secs_f64(),
        summary(&repository)
    )?;
    Ok(())
}

/// Connects `new` to `tenant` as the API does (under the local remote policy) and enqueues its
/// poll: the repository's name and what connecting did.
pub async fn connect(
    system: &System,
    tenant: TenantId,
    new: NewRepository,
) -> anyhow::Result<(String, Connected)> {
    let connection = check(new)?;
    let mut tx = system.db.tenant(tenant).await?;
    let connected = db::connect_repository(&mut tx, &system.secrets, &connection).await?;
    tx.commit().await?;
    Ok((connection.remote.name, connected))
}

/// Checks a connection as the API does (the local remote policy), and that a local path holds a
/// git repository.
fn check(new: NewRepository) -> anyhow::Result<Connection> {
    let connection = Connection::parse(RemotePolicy::Local, new)?;
    if connection.remote.is_local_path() {
        mirror::open(Path::new(&connection.remote.url))?;
    }
    Ok(connection)
}

/// The organization's `git` repositories, or the one named (its name or URL).
async fn git_repositories(
    tx: &mut TenantTx,
    named: Option<&str>,
) -> Result<Vec<Repository>, sqlx::Error> {
    let filter = RepositoryFilter {
        provider: Some(Provider::Git),
        ..RepositoryFilter::default()
    };
    let all = db::list_all_repositories(tx, &filter).await?;
    Ok(all
        .into_iter()
        .filter(|r| named.is_none_or(|name| r.name == name || r.url == name))
        .collect())
}

async fn sync(system: &System, tenant: &str, repository: Option<&str>) -> anyhow::Result<()> {
    let tenant = system.tenant(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let chosen = git_repositories(&mut tx, repository).await?;
    if chosen.is_empty() {
        anyhow::bail!(match repository {
            Some(name) => format!("no git repository named `{name}` (see `dashboard repo list`)"),
            None =>
                "the organization has no git repository (add one with `dashboard repo add`)".into(),
        });
    }
    for repository in &chosen {
        db::sync_repository(&mut tx, repository.id).await?;
    }
    tx.commit().await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let mut failed = 0;
    for chosen in &chosen {
        let Some(repository) = db::find_repository(&mut tx, chosen.id).await? else {
            continue;
        };
        match &repository.health.last_error {
            Some(error) => {
                failed += 1;
                outln!("{}: could not be fetched: {error}", repository.name)?;
            }
            None => outln!("{}: {}", repository.name, summary(&repository))?,
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
    let named = db::find_repositories_named(&mut tx, repository).await?;
    let (id, _) = match named.as_slice() {
        [] => anyhow::bail!("no repository named `{repository}` (see `dashboard repo list`)"),
        [one] => one,
        more => anyhow::bail!(
            "{} repositories are named `{repository}`: name one by its URL",
            more.len()
        ),
    };
    let removed = db::disconnect_repository(&mut tx, *id)
        .await?
        .context("the repository is gone")?;
    tx.commit().await?;
    outln!("removed {}", removed.name)?;
    Ok(())
}

/// `3 branches, 12 commits, 4 projects, 9 tasks (2 done), 7 links`.
fn summary(r: &Repository) -> String {
    format!(
        "{} branches, {} commits, {} projects, {} tasks ({} done), {} links",
        r.branches, r.commits, r.projects, r.tasks, r.tasks_done, r.links
    )
}

/// The lines shown under a repository: its failing state and its scan's problems.
fn notes(r: &Repository) -> Vec<String> {
    let health = &r.health;
    let mut notes = Vec::new();
    if let Some(error) = &health.last_error {
        let next = health.retry_after.map_or_else(String::new, |at| {
            format!("; next attempt after {}", at.format("%Y-%m-%d %H:%M:%S"))
        });
        notes.push(format!(
            "failing ({} in a row{next}): {error}",
            health.consecutive_failures
        ));
    }
    notes.extend(health.problems.iter().map(|p| format!("problem: {p}")));
    notes
}

async fn list(system: &System, tenant: &str, json: bool) -> anyhow::Result<()> {
    let tenant = system.tenant(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let rows = db::list_all_repositories(&mut tx, &RepositoryFilter::default()).await?;
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
        let polled = r.health.last_polled_at.map_or_else(
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
        for note in notes(&r) {
            outln!("  {note}")?;
        }
    }
    Ok(())
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
    if db::POLL_INTERVAL_SECONDS.contains(&seconds) {
        Ok(seconds)
    } else {
        Err("the interval must be between 30s and 24h".into())
    }
}

#[cfg(test)]
mod tests {
    use dashboard_shared::{
        crypto::{SecretBox, git_credential_context},
        testing,
    };
    use secrecy::ExposeSecret as _;
    use sqlx::PgPool;
    use uuid::Uuid;

    use super::*;

    fn location(url: &str) -> anyhow::Result<Connection> {
        check(NewRepository {
            url: url.to_owned(),
            ..NewRepository::default()
        })
    }

    #[test]
    fn intervals_and_remotes_are_checked() {
        assert_eq!(parse_interval("5m"), Ok(300));
        assert_eq!(parse_interval("45"), Ok(45));
        assert_eq!(parse_interval("2h"), Ok(7200));
        assert!(parse_interval("10s").is_err());
        assert!(parse_interval("5 minutes").is_err());

        let github = location("https://github.com/acme/widgets.git").unwrap();
        assert_eq!(github.remote.name, "acme/widgets");
        let scp = location("git@gitlab.com:group/sub/tool.git").unwrap();
        assert_eq!(scp.remote.name, "sub/tool");
        let secret = location("https://me:hunter2@example.com/a/b.git").unwrap_err();
        assert!(!secret.to_string().contains("hunter2"), "{secret}");
        assert!(secret.to_string().contains("--token-file"));
        let token = location("https://ghp_token123@github.com/a/b.git").unwrap_err();
        assert!(!token.to_string().contains("ghp_token123"), "{token}");
        assert!(token.to_string().contains("user information"), "{token}");
        let plain = location("http://git.example.com/a/b.git").unwrap_err();
        assert_eq!(
            plain.to_string(),
            "url: plain http is only allowed to loopback; use https"
        );
        assert!(location("http://127.0.0.1:9418/a/b.git").is_ok());
        let missing = location("/no/such/dir").unwrap_err();
        assert!(
            missing.to_string().contains("no such directory"),
            "{missing}"
        );
        let plain = tempfile::tempdir().unwrap();
        let not_git = location(plain.path().to_str().unwrap()).unwrap_err();
        assert!(
            not_git.to_string().contains("not a git repository"),
            "{not_git}"
        );
    }

    async fn connect(
        db: &dashboard_shared::Db,
        secrets: &SecretBox,
        tenant: dashboard_shared::TenantId,
        name: &str,
        token: Option<&str>,
    ) -> Result<Connected, dashboard_shared::Error> {
        let connection = Connection::parse(
            RemotePolicy::Local,
            NewRepository {
                url: format!("https://git.example.com/team/{name}.git"),
                token: token.map(str::to_owned),
                ..NewRepository::default()
            },
        )?;
        let mut tx = db.tenant(tenant).await?;
        let connected = db::connect_repository(&mut tx, secrets, &connection).await?;
        tx.commit().await?;
        Ok(connected)
    }

    #[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
    async fn the_plan_limits_the_repositories_and_a_token_is_stored_sealed(admin: PgPool) {
        let tenant = testing::create_tenant(&admin, "small").await;
        sqlx::query("update app.tenants set max_repositories = 1 where id = $1")
            .bind(tenant)
            .execute(&admin)
            .await
            .unwrap();
        let db = testing::runtime_db(&admin);
        let secrets = SecretBox::from_key(&[9; 32]);
        let first = connect(&db, &secrets, tenant, "a", Some("glpat-sealedToken123"))
            .await
            .unwrap();
        assert!(first.new);
        let again = connect(&db, &secrets, tenant, "a", None).await.unwrap();
        assert_eq!(
            (again.id, again.new),
            (first.id, false),
            "connected once per URL"
        );
        let refused = connect(&db, &secrets, tenant, "b", None).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "plan limit reached: the free plan allows 1 repositories (max_repositories) and 1 are connected"
        );
        let (kind, sealed): (String, Vec<u8>) = sqlx::query_as(
            "select credential_kind, credential_encrypted from app.repositories where id = $1",
        )
        .bind(first.id)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(kind, "token");
        assert!(!String::from_utf8_lossy(&sealed).contains("glpat"));
        let opened = secrets
            .open(&sealed, &git_credential_context(tenant.as_uuid(), first.id))
            .unwrap();
        assert_eq!(opened.expose_secret(), "glpat-sealedToken123");
        let polls: Vec<Uuid> =
            sqlx::query_scalar("select id from app.jobs where kind = 'poll_repository'")
                .fetch_all(&admin)
                .await
                .unwrap();
        assert_eq!(polls, [first.job], "one poll waiting for the repository");
        assert_eq!(
            again.job, first.job,
            "connecting again finds the poll waiting"
        );
    }

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
        let listed = db::list_all_repositories(&mut tx, &RepositoryFilter::default())
            .await
            .unwrap();
        let json = serde_json::to_value(&listed).unwrap();
        let health = &json[0]["health"];
        assert_eq!(health["consecutive_failures"], 1);
        assert_eq!(health["state"], "failing");
        assert_eq!(
            health["last_error"],
            "the repository /srv/gone.git does not exist"
        );
        assert!(health["retry_after"].is_string(), "{json}");
        let notes = notes(&listed[0]);
        assert!(
            notes.len() == 1
                && notes[0].starts_with("failing (1 in a row; next attempt after ")
                && notes[0].ends_with("): the repository /srv/gone.git does not exist"),
            "{notes:?}"
        );
        tx.commit().await.unwrap();

        finish(&db, tenant, repository, Ok(())).await.unwrap();
        let mut tx = db.tenant(tenant).await.unwrap();
        let listed = db::list_all_repositories(&mut tx, &RepositoryFilter::default())
            .await
            .unwrap();
        let json = serde_json::to_value(&listed).unwrap();
        let health = &json[0]["health"];
        assert_eq!(health["consecutive_failures"], 0);
        assert!(health["last_error"].is_null() && health["retry_after"].is_null());
        assert!(super::notes(&listed[0]).is_empty());
    }
}
