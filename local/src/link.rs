//! `dashboard link add|remove|relink`: what a person does to the linker's work until the API serves
//! it. A link added by hand (`manual`) replaces whatever linked the pair and keeps the linker's
//! similarity away from the commit; a removed link is kept as `rejected`, so relinking never brings
//! it back; relinking runs the linker over every commit of the organization's repositories (or one)
//! again — the job `POST /api/v2/link-commit-tasks` will enqueue.

use crate::output::outln;
use dashboard_linker::link;
use dashboard_shared::TenantTx;
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
    /// The commit: its SHA or an unambiguous prefix of at least 7 hex digits.
    commit: String,
    /// The task: a task-list id or tracker key (`TASK-AUTH-12`, `ENG-3`), or a GitHub issue or pull
    /// request number of the commit's repository (`#12`).
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
    let (commit, repository, sha) = find_commit(&mut tx, &pair.commit).await?;
    let key = &pair.task;
    let task = link::find_task(&mut tx, repository, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no task {key} for this commit"))?;
    let short = &sha[..7];
    if add {
        link::add_manual_link(&mut tx, commit, task, None).await?;
        tx.commit().await?;
        outln!("{short} → {key}: linked by hand")?;
    } else {
        let removed = link::remove_link(&mut tx, commit, task).await?;
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
    let enqueued = link::request_relink(&mut tx, chosen).await?;
    tx.commit().await?;
    system.settle(tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let (links, suggested): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where l.state = 'active'), count(*) filter (where l.state = 'suggested')
         from commit_task_links l join commits c on c.id = l.commit_id
         where $1::uuid is null or c.repository_id = $1",
    )
    .bind(chosen)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    outln!("{slug}: {enqueued} repositories relinked; {links} links, {suggested} suggestions")?;
    Ok(())
}

/// The commit `given` names: (id, repository, full SHA).
async fn find_commit(tx: &mut TenantTx, given: &str) -> anyhow::Result<(Uuid, Uuid, String)> {
    let prefix = given.to_ascii_lowercase();
    anyhow::ensure!(
        (7..=40).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_hexdigit()),
        "`{given}` is not a commit SHA (7 to 40 hex digits)"
    );
    let found: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "select id, repository_id, sha from commits where sha like $1 || '%' order by sha limit 2",
    )
    .bind(&prefix)
    .fetch_all(&mut **tx)
    .await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("no commit {given} in this organization"),
        _ => anyhow::bail!("{given} names several commits: give more of the SHA"),
    }
}
