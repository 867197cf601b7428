//! Sessions: what a sign-in yields and how it is kept alive. A sign-in starts a refresh-token family
//! (R2: 7 days from the sign-in, never extended); each refresh consumes its token atomically and
//! issues the next one in the family (R3); presenting a consumed token again revokes the family,
//! unless it was consumed moments ago by a concurrent refresh (two tabs), which is refused alone.
//! Access tokens are short JWTs (1 h) that carry the family as `sid`.

use chrono::{DateTime, Duration, Utc};
use dashboard_shared::{AccountTx, Db, Error};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    keys::{SigningKeys, TokenType},
    opaque,
};

/// Lifetime of an access token (J3).
pub const ACCESS_TTL: Duration = Duration::hours(1);
/// Absolute lifetime of a refresh-token family (R2).
pub const FAMILY_TTL: Duration = Duration::days(7);
/// A token consumed this recently by another refresh is refused without revoking its family (R3).
const CONCURRENT_REFRESH_GRACE: Duration = Duration::seconds(10);

/// How a person proved who they are (the `amr` claim, RFC 8176 values).
pub mod amr {
    /// A password.
    pub const PASSWORD: &str = "pwd";
    /// A one-time code (TOTP or a recovery code).
    pub const OTP: &str = "otp";
    /// A sign-in provider (GitHub, Google, an OpenID issuer).
    pub const FEDERATED: &str = "fed";
    /// Several factors.
    pub const MFA: &str = "mfa";
}

/// The claims of our access tokens (J3). Every field is required when a token is read (J4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Our issuer.
    pub iss: String,
    /// Our API.
    pub aud: String,
    /// The account.
    pub sub: Uuid,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// This token's id.
    pub jti: Uuid,
    /// The refresh-token family (session) it belongs to.
    pub sid: Uuid,
    /// When the person last proved who they are (P7: sensitive changes need it recent).
    pub auth_time: i64,
    /// How they did.
    pub amr: Vec<String>,
}

impl AccessClaims {
    /// The proof of identity this session carries (when and how), for a new session that must not
    /// count as a fresher proof than this one.
    pub fn proof(&self) -> Proof {
        Proof {
            auth_time: DateTime::from_timestamp(self.auth_time, 0).unwrap_or(DateTime::UNIX_EPOCH),
            amr: self.amr.clone(),
        }
    }

    /// Whether the person signed in with a second factor or through a provider that vouches for it.
    pub fn has_second_factor(&self) -> bool {
        self.amr.iter().any(|m| m == amr::MFA || m == amr::OTP)
    }
}

/// What a sign-in or a refresh answers (the issue fixes these names).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tokens {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token (opaque, single use). Left out of the JSON when empty: a browser gets it
    /// only in its cookie (`cookies::deliver`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub refresh_token: String,
}

/// How a sign-in was made, recorded on its family.
#[derive(Debug, Clone)]
pub struct Proof {
    /// When the person proved who they are.
    pub auth_time: DateTime<Utc>,
    /// How (see [`amr`]).
    pub amr: Vec<String>,
}

impl Proof {
    /// Proven just now, by `methods`.
    pub fn now(methods: &[&str]) -> Self {
        Self {
            auth_time: Utc::now(),
            amr: methods.iter().map(|m| (*m).to_owned()).collect(),
        }
    }
}

/// Starts a new session (a new family, R6) for an account that just proved who it is, inside the
/// caller's account transaction.
pub async fn start(
    tx: &mut AccountTx,
    keys: &SigningKeys,
    proof: &Proof,
    user_agent: Option<&str>,
) -> Result<Tokens, Error> {
    let family = Uuid::new_v4();
    let expires_at = proof.auth_time.min(Utc::now()) + FAMILY_TTL;
    let refresh = insert_token(tx, family, expires_at, proof, user_agent).await?;
    Ok(tokens(keys, tx.account_id(), family, proof, refresh)?)
}

/// Rotates a refresh token: the next token of its family and a new access token. An unknown,
/// expired or revoked token is 401; a token used twice revokes its family (R3).
pub async fn refresh(db: &Db, keys: &SigningKeys, refresh_token: &str) -> Result<Tokens, Error> {
    let hash = opaque::hash(refresh_token);
    let mut lookup = db.without_tenant().await?;
    let account: Option<Uuid> = sqlx::query_scalar("select lookup.account_by_refresh_token($1)")
        .bind(hash.as_slice())
        .fetch_one(&mut *lookup)
        .await?;
    drop(lookup);
    let account = account.ok_or(Error::Unauthorized)?;
    let mut tx = db.account(account).await?;
    let consumed = sqlx::query_as::<
        _,
        (
            Uuid,
            DateTime<Utc>,
            DateTime<Utc>,
            Vec<String>,
            Option<String>,
        ),
    >(
        "update sessions set consumed_at = now(), last_used_at = now()
         where refresh_token_hash = $1 and consumed_at is null and revoked_at is null
           and expires_at > now()
         returning family_id, expires_at, auth_time, amr, user_agent",
    )
    .bind(hash.as_slice())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((family, expires_at, auth_time, amr, user_agent)) = consumed else {
        refuse_stale(&mut tx, &hash).await?;
        tx.commit().await?;
        return Err(Error::Unauthorized);
    };
    let proof = Proof { auth_time, amr };
    let refresh = insert_token(&mut tx, family, expires_at, &proof, user_agent.as_deref()).await?;
    let tokens = tokens(keys, account, family, &proof, refresh)?;
    tx.commit().await?;
    Ok(tokens)
}

/// A refresh token that could not be consumed: when it had already been rotated (not just now by
/// a concurrent refresh), its whole family is revoked, since someone holds a copy (R3).
async fn refuse_stale(tx: &mut AccountTx, hash: &[u8; 32]) -> Result<(), Error> {
    let reused = sqlx::query_scalar::<_, Uuid>(
        "select family_id from sessions
         where refresh_token_hash = $1 and consumed_at < now() - make_interval(secs => $2)",
    )
    .bind(hash.as_slice())
    .bind(CONCURRENT_REFRESH_GRACE.num_seconds() as f64)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(family) = reused {
        tracing::warn!(session.family = %family, "a rotated refresh token was reused; revoking its family");
        revoke_family(tx, family).await?;
    }
    Ok(())
}

/// Revokes every token of a family (sign-out, reuse).
pub async fn revoke_family(tx: &mut AccountTx, family: Uuid) -> Result<(), Error> {
    sqlx::query(
        "update sessions set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Revokes every session of the account and every access token issued until now (J7): "sign out
/// everywhere", a password change or reset, an MFA change.
pub async fn revoke_all(tx: &mut AccountTx) -> Result<(), Error> {
    sqlx::query("update sessions set revoked_at = now() where revoked_at is null")
        .execute(&mut **tx)
        .await?;
    sqlx::query("update accounts set tokens_valid_after = now() where id = $1")
        .bind(tx.account_id())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_token(
    tx: &mut AccountTx,
    family: Uuid,
    expires_at: DateTime<Utc>,
    proof: &Proof,
    user_agent: Option<&str>,
) -> Result<String, Error> {
    let (token, hash) = opaque::new_token(opaque::REFRESH_PREFIX);
    let user_agent = user_agent.map(|ua| ua.chars().take(200).collect::<String>());
    sqlx::query(
        "insert into sessions (account_id, refresh_token_hash, family_id, user_agent, expires_at,
                               auth_time, amr)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tx.account_id())
    .bind(hash.as_slice())
    .bind(family)
    .bind(user_agent)
    .bind(expires_at)
    .bind(proof.auth_time)
    .bind(&proof.amr)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

fn tokens(
    keys: &SigningKeys,
    account: Uuid,
    family: Uuid,
    proof: &Proof,
    refresh_token: String,
) -> anyhow::Result<Tokens> {
    let now = Utc::now().timestamp();
    let claims = AccessClaims {
        iss: keys.issuer().to_owned(),
        aud: keys.audience().to_owned(),
        sub: account,
        exp: now + ACCESS_TTL.num_seconds(),
        nbf: now,
        iat: now,
        jti: Uuid::new_v4(),
        sid: family,
        auth_time: proof.auth_time.timestamp(),
        amr: proof.amr.clone(),
    };
    Ok(Tokens {
        access_token: keys.sign(TokenType::Access, &claims)?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL.num_seconds(),
        refresh_token,
    })
}
