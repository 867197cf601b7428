//! Which account a person signing in through a provider is (O8): the account of a known identity;
//! else the account whose verified email the provider verified too, to which the identity is
//! linked; else a new account, whose email counts as verified only when the provider says so. An
//! unverified address never links and never takes an address another account holds.

use dashboard_shared::{AccountTx, Db, Error};
use uuid::Uuid;

use super::Person;

/// How the account was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The identity was known.
    Known,
    /// The identity was linked to an account with the same verified email.
    Linked,
    /// A new account was created.
    Created,
}

/// The account of `person` at `provider`, in an account transaction (commit it to keep a link or
/// a new account).
pub async fn account_for(
    db: &Db,
    provider: &str,
    person: &Person,
) -> Result<(AccountTx, Found), Error> {
    check(person)?;
    let mut lookup = db.without_tenant().await?;
    let known: Option<Uuid> = sqlx::query_scalar("select lookup.account_by_identity($1, $2)")
        .bind(provider)
        .bind(&person.subject)
        .fetch_one(&mut *lookup)
        .await?;
    let linkable = match (&person.email, person.email_verified, known) {
        (Some(email), true, None) => {
            sqlx::query_scalar("select lookup.account_by_verified_email($1)")
                .bind(email)
                .fetch_one(&mut *lookup)
                .await?
        }
        _ => None,
    };
    drop(lookup);
    if let Some(account) = known {
        return Ok((usable(db, account).await?, Found::Known));
    }
    if let Some(account) = linkable {
        let mut tx = usable(db, account).await?;
        add_identity(&mut tx, provider, person).await?;
        return Ok((tx, Found::Linked));
    }
    let mut tx = create_account(db, person).await?;
    add_identity(&mut tx, provider, person).await?;
    Ok((tx, Found::Created))
}

/// Refuses what the tables could not hold, before touching them.
fn check(person: &Person) -> Result<(), Error> {
    if !(1..=255).contains(&person.subject.len()) {
        return Err(Error::BadRequest(
            "the provider gave no usable user id".into(),
        ));
    }
    let usable_email = person.email.as_deref().is_some_and(|email| {
        email.len() <= 320
            && email.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty() && !host.is_empty() && !host.contains('@')
            })
            && !email.chars().any(char::is_whitespace)
    });
    if !usable_email {
        return Err(Error::BadRequest(
            "the provider did not share a usable email address; allow it to, then sign in again"
                .into(),
        ));
    }
    Ok(())
}

/// A transaction of `account`, refused when the account is disabled.
async fn usable(db: &Db, account: Uuid) -> Result<AccountTx, Error> {
    let mut tx = db.account(account).await?;
    let disabled: bool =
        sqlx::query_scalar("select disabled_at is not null from accounts where id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
    if disabled {
        return Err(Error::ForbiddenBecause("this account is disabled".into()));
    }
    Ok(tx)
}

async fn create_account(db: &Db, person: &Person) -> Result<AccountTx, Error> {
    let account = Uuid::new_v4();
    let mut tx = db.account(account).await?;
    let name: Option<String> = person
        .name
        .as_deref()
        .map(|n| n.chars().take(200).collect());
    let inserted = sqlx::query(
        "insert into accounts (id, email, display_name, email_verified_at)
         values ($1, $2, $3, case when $4 then now() end)",
    )
    .bind(account)
    .bind(&person.email)
    .bind(name)
    .bind(person.email_verified)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => Ok(tx),
        Err(error) if is_unique_violation(&error) => Err(Error::Conflict(
            "an account already uses this email address, and the provider did not confirm it as \
             verified (or the account has not verified it), so the two are not joined: sign in to \
             that account another way"
                .into(),
        )),
        Err(error) => Err(error.into()),
    }
}

async fn add_identity(tx: &mut AccountTx, provider: &str, person: &Person) -> Result<(), Error> {
    let account = tx.account_id();
    let inserted = sqlx::query(
        "insert into identities (provider, subject, account_id, email) values ($1, $2, $3, $4)",
    )
    .bind(provider)
    .bind(&person.subject)
    .bind(account)
    .bind(&person.email)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(Error::Conflict(
            "this identity was just linked by another sign-in; sign in again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}
