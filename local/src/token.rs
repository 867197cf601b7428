//! `dashboard token create`: a personal API token of a member, made by the operator through the
//! API's own function (`orgs::tokens::create_api_token`: scope at most the member's role, hashed,
//! audited) and printed alone on stdout, for scripts: `curl -H "Authorization: Bearer $(dashboard
//! token create …)"`.

use crate::output::outln;
use dashboard_api::{accounts, orgs::tokens::create_api_token};
use dashboard_shared::domain::{Email, Role};

use crate::system::System;

/// `dashboard token …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a personal API token for a member of an organization; prints only the token.
    Create(CreateArgs),
}

/// `dashboard token create`.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// The organization (slug).
    #[arg(long)]
    tenant: String,
    /// The member whose token it is.
    #[arg(long)]
    email: String,
    /// Its role: admin, member or viewer, at most the member's (default: theirs, admin for owners).
    #[arg(long)]
    role: Option<Role>,
    /// How long it lives: `30d` or `30` (days, 1 to 366; default 90).
    #[arg(long, value_parser = parse_days)]
    expires: Option<u32>,
    /// A name to recognise it by.
    #[arg(long, default_value = "command line")]
    name: String,
}

/// Runs a `token` command.
pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Create(args) = command;
    let system = System::open().await?;
    let result = create(&system, &args).await;
    system.close().await?;
    outln!("{}", result?)?;
    Ok(())
}

async fn create(system: &System, args: &CreateArgs) -> anyhow::Result<String> {
    let email = Email::parse(&args.email).map_err(anyhow::Error::msg)?;
    let account = accounts::find_account_by_email(&system.db, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with the address {}", email.as_str()))?;
    let tenant = system.tenant(&args.tenant).await?;
    let mut tx = system.db.member(tenant, account).await?;
    let created = create_api_token(&mut tx, account, &args.name, args.role, args.expires)
        .await
        .map_err(|error| match error {
            dashboard_shared::Error::NotFound => {
                anyhow::anyhow!("{} is not a member of {}", email.as_str(), args.tenant)
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    tx.commit().await?;
    Ok(created.token)
}

/// `30d` or `30`: a number of days.
fn parse_days(raw: &str) -> Result<u32, String> {
    raw.strip_suffix('d')
        .unwrap_or(raw)
        .parse()
        .map_err(|_| format!("`{raw}` is not a number of days like 30d"))
}
