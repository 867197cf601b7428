//! `dashboard`: the local all-in-one runner. Mounts every function's routes on one port with its
//! own PostgreSQL when `DATABASE_URL` is unset (`up`, `up --demo`), connects and polls git
//! repositories (`repo add|list|sync`), prints what an organization sees (`show`), adds, removes and
//! recomputes links (`link add|remove|relink`), scans a checkout
//! (`scan`), evaluates the linker (`eval-linker`), runs migrations for deploys (`migrate`), and
//! manages a private PostgreSQL cluster for scripts (`db start|stop`).

mod demo;
mod eval;
mod link;
mod output;
mod postgres;
mod repo;
mod scan;
mod seed;
mod show;
mod system;
mod token;
mod up;
mod user;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use dashboard_shared::{config::LogFormat, db::MIGRATOR, serve, telemetry};
use output::outln;
use secrecy::{ExposeSecret as _, SecretString};

#[derive(Parser)]
#[command(name = "dashboard", version, about = "Dashboard on one machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function on one port (its own PostgreSQL when DATABASE_URL is unset).
    Up(up::Args),
    /// Connect, list and poll an organization's git repositories (any URL or local path).
    #[command(subcommand)]
    Repo(repo::Command),
    /// Create personal API tokens for scripts.
    #[command(subcommand)]
    Token(token::Command),
    /// Create accounts and give them a role in an organization.
    #[command(subcommand)]
    User(user::Command),
    /// Print an organization's project tree and recent commits with their links.
    Show(show::Args),
    /// Link a commit to a task by hand, remove a link for good, or link every commit again.
    #[command(subcommand)]
    Link(link::Command),
    /// Print the projects a local git repository holds (read from its object database).
    Scan(scan::Args),
    /// Evaluate the linker on a benchmark directory (shared/fixtures/linking layout).
    EvalLinker(eval::Args),
    /// Apply the migrations to DATABASE_URL (the deploy step; needs a role that may create roles).
    Migrate,
    /// Manage a private PostgreSQL cluster (used by scripts/test).
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create (if needed) and start a cluster; print its superuser URL.
    Start {
        /// Directory of the cluster.
        #[arg(long)]
        dir: PathBuf,
        /// Throwaway cluster: trust authentication on loopback and no fsync. Tests only.
        #[arg(long)]
        ephemeral: bool,
    },
    /// Stop a cluster started with `db start`.
    Stop {
        /// Directory of the cluster.
        #[arg(long)]
        dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = run(Cli::parse()).await;
    // Nobody reads what is left to print (`dashboard show | head`): stop quietly.
    if result.as_ref().is_err_and(output::is_closed_pipe) {
        return ExitCode::SUCCESS;
    }
    serve::exit_code(result)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The long-running commands log what they do; the others print their result and only warn.
    let verbosity = match cli.command {
        Command::Up(_) | Command::Migrate | Command::Db(_) => "info",
        _ => "warn",
    };
    telemetry::init_with(
        LogFormat::from_lookup(&dashboard_shared::config::Env::process())?,
        verbosity,
    );
    match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Repo(command) => repo::run(command).await,
        Command::Show(args) => show::run(args).await,
        Command::User(command) => user::run(command).await,
        Command::Token(command) => token::run(command).await,
        Command::Link(command) => link::run(command).await,
        Command::Migrate => migrate().await,
        Command::Scan(args) => scan::run(&args),
        Command::EvalLinker(args) => eval::run(&args),
        Command::Db(DbCommand::Start { dir, ephemeral }) => {
            let auth = if ephemeral {
                postgres::Auth::Trust
            } else {
                postgres::Auth::Password
            };
            outln!("{}", postgres::Cluster::new(&dir, auth)?.start("postgres")?)?;
            Ok(())
        }
        Command::Db(DbCommand::Stop { dir }) => {
            postgres::Cluster::new(&dir, postgres::Auth::Trust)?.stop()
        }
    }
}

async fn migrate() -> anyhow::Result<()> {
    let url = dashboard_shared::config::Env::process().postgres_url("DATABASE_URL")?;
    let admin = connect_admin(&url).await?;
    MIGRATOR.run(&admin).await?;
    tracing::info!(
        migrations = MIGRATOR.iter().count(),
        "database is up to date"
    );
    Ok(())
}

/// A short-lived pool for an administrative role (migrations, seeding).
async fn connect_admin(url: &SecretString) -> anyhow::Result<sqlx::PgPool> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(url.expose_secret())
        .await
        .map_err(|error| anyhow::anyhow!("failed to connect to the database: {error}"))
}
