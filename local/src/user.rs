//! `dashboard user add`: an account made by the operator (its address counts as verified), with a
//! password from a file and, optionally, a role in an organization — so a newcomer can sign in and
//! call the API right after `dashboard up`. Through the API crate's own account functions.

use crate::output::outln;
use anyhow::Context as _;
use dashboard_api::{
    accounts::{self, NewAccount},
    auth::password::{Passwords, check_new_password},
};
use dashboard_shared::domain::{Email, Role};
use secrecy::{ExposeSecret as _, SecretString};

use crate::system::System;

/// `dashboard user …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account (or find it), optionally with a role in an organization.
    Add(AddArgs),
}

/// `dashboard user add`.
#[derive(clap::Args)]
pub struct AddArgs {
    /// The person's email address.
    #[arg(long)]
    email: String,
    /// Their name.
    #[arg(long)]
    name: Option<String>,
    /// A file holding their password (a trailing newline is ignored); without it they sign in
    /// through a provider or set one with a password reset.
    #[arg(long, value_name = "FILE")]
    password_file: Option<std::path::PathBuf>,
    /// An organization (slug) to make them a member of.
    #[arg(long, requires = "role")]
    tenant: Option<String>,
    /// Their role there: owner, admin, member or viewer.
    #[arg(long, requires = "tenant")]
    role: Option<Role>,
}

/// Runs a `user` command.
pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Add(args) = command;
    let system = System::open().await?;
    let result = add(&system, args).await;
    system.close().await?;
    result
}

async fn add(system: &System, args: AddArgs) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(anyhow::Error::msg)?;
    let password = match &args.password_file {
        Some(file) => Some(read_password(file, &email)?),
        None => None,
    };
    let existing = accounts::find_account_by_email(&system.db, &email).await?;
    let account = match existing {
        Some(account) => {
            anyhow::ensure!(
                password.is_none(),
                "{} already has an account; its password is changed by the person (or a reset)",
                email.as_str()
            );
            account
        }
        None => {
            let password_hash = match &password {
                Some(password) => Some(Passwords::new(1).hash(password).await?),
                None => None,
            };
            let new = NewAccount {
                email: &email,
                display_name: args.name.as_deref(),
                password_hash,
                email_verified: true,
            };
            accounts::create_account(&system.db, new).await?
        }
    };
    if let (Some(slug), Some(role)) = (&args.tenant, args.role) {
        let tenant = system.tenant(slug).await?;
        accounts::add_member(&system.db, tenant, account, role, None).await?;
        outln!(
            "{} is {} of {slug} (account {account})",
            email.as_str(),
            role.as_str()
        )?;
    } else {
        outln!("{} has account {account}", email.as_str())?;
    }
    Ok(())
}

fn read_password(file: &std::path::Path, email: &Email) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("failed to read the password file {}", file.display()))?;
    let password = SecretString::from(text.trim_end_matches(['\r', '\n']).to_owned());
    check_new_password(password.expose_secret(), email.as_str(), false)
        .map_err(|rejected| anyhow::anyhow!("{rejected}"))?;
    Ok(password)
}
