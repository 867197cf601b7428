//! `dashboard link add|remove|relink`: what a person does to the linker's work, through the same
//! functions as `POST /api/v2/orgs/{org}/links`, `DELETE …/links/{commit}/{task}` and `POST
//! …/link-commit-tasks` (`dashboard_api::api::links::db`). A link added by hand (`manual`) replaces
//! whatever linked the pair and keeps the linker's similarity away from the commit; a removed link
//! is kept as `rejected`, so relinking never brings it back; relinking runs the linker over every
//! commit of the organization's repositories (or one) again, here, until the job is done.

use crate::output::outln;
use dashboard_api::api::links::db as links;
use dashboard_shared::domain::JobStatus;
use uuid::Uuid;

use crate::system::System;

/// `dashboard link …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Link a commit to a task by hand.
    Add(PairArgs),
    /// Remove a commit's link to a task, for good (relinking does not bring it back).
    Remove(PairArgs),
    /// Link every commit again (after tasks changed): all repositories, or the one named.
    Relink {
        /// The organization's slug.
        #[arg(long)]
        tenant: String,
        /// A repository's name or clone URL.
        repository: Option<String>,
    },
}

/// A commit and a task of one organization.
#[derive(clap::Args)]
pub struct PairArgs {
    /// The organization's slug.
    #[arg(long)]
    tenant: String,
    /// The commit: its SHA or an unambiguous prefix of at least 7 hex digits (or its id).
    commit: String,
    /// The task: a task-list id or tracker key (`TASK-AUTH-12`, `ENG-3`), a GitHub issue or pull
    /// request number of the commit's repository (`#12`), or its id.
    task: String,
}

/// Runs one `dashboard link` command.
pub async fn run(command: Command) -> anyhow::Result<()> {
    let system = System::open().await?;
    let result = match command {
        Command::Add(pair) => add_or_remove(&system, &pair, true).await,
        Command::Remove(pair) => add_or_remove(&system, &pair, false).await,
        Command::Relink { tenant, repository } => {
            relink(&system, &tenant, repository.as_deref()).await
        }
    };
    system.close().await?;
    result
}

async fn add_or_remove(system: &System, pair: &PairArgs, add: bool) -> anyhow::Result<()> {
    let tenant = system.tenant(&pair.tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let commit = links::find_commit(&mut tx, &pair.commit).await?;
    let key = &pair.task;
    let task = links::find_task(&mut tx, commit.repository_id, key).await?;
    let short = &commit.sha[..7];
    if add {
        links::add_link(&mut tx, None, &commit, task).await?;
        tx.commit().await?;
        outln!("{short} → {key}: linked by hand")?;
    } else {
        let removed = links::remove_link(&mut tx, None, commit.id, task).await?;
        anyhow::ensure!(removed, "{short} has no link to {key}");
        tx.commit().await?;
        outln!("{short} → {key}: removed (relinking will not bring it back)")?;
    }
    Ok(())
}

async fn relink(system: &System, tenant: &str, repository: Option<&str>) -> anyhow::Result<()> {
    let slug = tenant;
    let tenant = system.tenant(slug).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let chosen = match repository {
        None => None,
        Some(name) => Some(
            sqlx::query_scalar::<_, Uuid>(
                "select id from repositories where not archived and (full_name = $1 or clone_url = $1)",
            )
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("no repository named `{name}` (see `dashboard repo list`)")
            })?,
        ),
    };
    let job = links::request_relink(&mut tx, chosen).await?;
    tx.commit().await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let job = links::find_job(&mut tx, job.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the relink job {} is gone", job.id))?;
    let (active, suggested) = links::count_links(&mut tx, chosen).await?;
    tx.commit().await?;
    anyhow::ensure!(
        job.status == JobStatus::Done,
        "relinking {}: {}",
        job.status,
        job.last_error.as_deref().unwrap_or("no error recorded")
    );
    let scope = if chosen.is_some() {
        "1 repository"
    } else {
        "every repository"
    };
    outln!("{slug}: {scope} relinked; {active} links, {suggested} suggestions")?;
    Ok(())
}
