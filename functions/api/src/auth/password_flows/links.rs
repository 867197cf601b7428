//! Emailed single-use links (verify an address: 24 hours; reset a password: 1 hour): an opaque
//! token whose SHA-256 is stored in `email_tokens`, consumed atomically once; using one retires
//! every other open link of the same purpose. And the one way mail leaves these flows.

use chrono::{Duration, Utc};
use dashboard_shared::{AccountTx, Db, Error};
use uuid::Uuid;

use crate::auth::{
    mail::{Mail, Mailer},
    opaque,
};

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the person receives mail at the address.
    VerifyEmail,
    /// Lets the person choose a new password.
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::hours(24),
            Self::ResetPassword => Duration::hours(1),
        }
    }

    /// The web page the link opens (it posts the token to the API).
    fn page(self) -> &'static str {
        match self {
            Self::VerifyEmail => "/verify-email",
            Self::ResetPassword => "/reset-password",
        }
    }
}

/// The longest token accepted (ours are 51 characters).
const MAX_TOKEN_CHARS: usize = 128;

/// Stores a new link for the account of `tx`, sent to `email`, and returns its URL.
pub async fn create(
    tx: &mut AccountTx,
    public_url: &str,
    purpose: Purpose,
    email: &str,
) -> Result<String, Error> {
    let (token, hash) = opaque::new_token(opaque::EMAIL_LINK_PREFIX);
    sqlx::query(
        "insert into email_tokens (token_hash, account_id, purpose, email, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(hash.as_slice())
    .bind(tx.account_id())
    .bind(purpose.as_str())
    .bind(email)
    .bind(Utc::now() + purpose.ttl())
    .execute(&mut **tx)
    .await?;
    Ok(format!("{public_url}{}?token={token}", purpose.page()))
}

/// Consumes a presented link: a transaction of its account and the address it was sent to, or
/// `None` when it is unknown, used or expired. The consumption is undone unless the transaction is
/// committed, so a step that fails after it (a refused new password) leaves the link usable.
pub async fn consume(
    db: &Db,
    purpose: Purpose,
    token: &str,
) -> Result<Option<(AccountTx, String)>, Error> {
    if token.len() > MAX_TOKEN_CHARS || !token.starts_with(opaque::EMAIL_LINK_PREFIX) {
        return Ok(None);
    }
    let hash = opaque::hash(token);
    let mut lookup = db.without_tenant().await?;
    let account: Option<Uuid> = sqlx::query_scalar("select lookup.account_by_email_token($1, $2)")
        .bind(hash.as_slice())
        .bind(purpose.as_str())
        .fetch_one(&mut *lookup)
        .await?;
    drop(lookup);
    let Some(account) = account else {
        return Ok(None);
    };
    let mut tx = db.account(account).await?;
    let email: Option<String> = sqlx::query_scalar(
        "update email_tokens set used_at = now()
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
         returning email",
    )
    .bind(hash.as_slice())
    .bind(purpose.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(email) = email else {
        return Ok(None);
    };
    sqlx::query("update email_tokens set used_at = now() where purpose = $1 and used_at is null")
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(Some((tx, email)))
}

/// Sends `mail`; a failure is logged (never the link) and not the caller's to see: the answers of
/// these flows must not depend on whether an address exists or a server is up.
pub async fn deliver(mailer: &Mailer, mail: Mail) {
    if let Err(error) = mailer.send(&mail).await {
        tracing::warn!(error = %format!("{error:#}"), mail.subject = %mail.subject, "a mail could not be sent");
    }
}
