//! Which account a person signing in through a provider is (O8): the account of a known identity;
//! else the account whose verified email the provider verified too, to which the identity is
//! linked; else a new account, whose email counts as verified only when the provider says so. An
//! unverified address never links and never takes an address another account holds.

use dashboard_shared::{AccountTx, Db, Error, domain::Email};
use uuid::Uuid;

use super::Person;
use crate::accounts::{self, NewAccount};

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
    let email = check(person)?;
    let mut lookup = db.without_tenant().await?;
    let known: Option<Uuid> = sqlx::query_scalar("select lookup.account_by_identity($1, $2)")
        .bind(provider)
        .bind(&person.subject)
        .fetch_one(&mut *lookup)
        .await?;
    let linkable = match (person.email_verified, known) {
        (true, None) => {
            sqlx::query_scalar("select lookup.account_by_verified_email($1)")
                .bind(email.as_str())
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
        add_identity(&mut tx, provider, &person.subject, &email).await?;
        return Ok((tx, Found::Linked));
    }
    let new = NewAccount {
        email: &email,
        display_name: person.name.as_deref(),
        password_hash: None,
        email_verified: person.email_verified,
    };
    let account =
        accounts::create_account(db, new).await.map_err(|error| {
            match error {
        Error::Conflict(_) => Error::Conflict(
            "an account already uses this email address, and either the provider did not confirm \
             the address as verified or that account never verified it, so the two are not \
             joined: sign in to that account another way"
                .into(),
        ),
        other => other,
    }
        })?;
    let mut tx = db.account(account).await?;
    add_identity(&mut tx, provider, &person.subject, &email).await?;
    Ok((tx, Found::Created))
}

/// Refuses what the tables could not hold, before touching them; the person's address.
fn check(person: &Person) -> Result<Email, Error> {
    if !(1..=255).contains(&person.subject.len()) {
        return Err(Error::BadRequest(
            "the provider gave no usable user id".into(),
        ));
    }
    person
        .email
        .as_deref()
        .and_then(|email| Email::parse(email).ok())
        .ok_or_else(|| {
            Error::BadRequest(
                "the provider did not share a usable email address; allow it to, then sign in again"
                    .into(),
            )
        })
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

async fn add_identity(
    tx: &mut AccountTx,
    provider: &str,
    subject: &str,
    email: &Email,
) -> Result<(), Error> {
    let account = tx.account_id();
    sqlx::query(
        "insert into identities (provider, subject, account_id, email) values ($1, $2, $3, $4)",
    )
    .bind(provider)
    .bind(subject)
    .bind(account)
    .bind(email.as_str())
    .execute(&mut **tx)
    .await
    .map_err(|error| match Error::from(error) {
        Error::Conflict(_) => Error::Conflict(
            "this identity was just linked by another sign-in; sign in again".into(),
        ),
        other => other,
    })?;
    Ok(())
}
