//! The last step of every sign-in path (password, provider, MFA): an account that proved who it is
//! gets tokens, unless it has MFA turned on and has not yet given its second factor, in which case
//! it gets a single-use MFA token (T6: `mfa+jwt`, 5 minutes) to exchange at `POST
//! /api/v2/auth/mfa` together with a code.

use chrono::{Duration, Utc};
use dashboard_shared::{AccountTx, Error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit;

use super::{
    keys::{SigningKeys, TokenType},
    session::{self, Proof, Tokens, amr},
};

/// How long an MFA token lives (T6).
pub const MFA_TTL: Duration = Duration::minutes(5);

/// What a sign-in answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Outcome {
    /// Signed in.
    Tokens(Tokens),
    /// The password (or provider) was right; a second factor is needed.
    MfaRequired {
        /// Always true.
        mfa_required: bool,
        /// Exchange it with a code at `POST /api/v2/auth/mfa`.
        mfa_token: String,
        /// Seconds it stays valid.
        expires_in: i64,
    },
}

/// The claims of an MFA token. `jti` is its `mfa_challenges` row, consumed once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaClaims {
    /// Our issuer.
    pub iss: String,
    /// Our API.
    pub aud: String,
    /// The account.
    pub sub: Uuid,
    /// Expiry.
    pub exp: i64,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// The challenge.
    pub jti: Uuid,
}

/// Finishes a sign-in of the account of `tx` proven by `first_factor` (see [`amr`]): tokens when
/// it has no MFA, else an MFA token.
pub async fn complete(
    tx: &mut AccountTx,
    keys: &SigningKeys,
    first_factor: &str,
    user_agent: Option<&str>,
) -> Result<Outcome, Error> {
    let mfa_enabled: bool = sqlx::query_scalar("select mfa_enabled from accounts where id = $1")
        .bind(tx.account_id())
        .fetch_one(&mut **tx)
        .await?;
    if !mfa_enabled {
        let tokens = session::start(tx, keys, &Proof::now(&[first_factor]), user_agent).await?;
        audit::record_for_account(tx, "signin.succeeded", json!({ "amr": [first_factor] })).await?;
        return Ok(Outcome::Tokens(tokens));
    }
    let challenge = Uuid::new_v4();
    let now = Utc::now();
    sqlx::query(
        "insert into mfa_challenges (id, account_id, amr, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(challenge)
    .bind(tx.account_id())
    .bind(vec![first_factor.to_owned()])
    .bind(now + MFA_TTL)
    .execute(&mut **tx)
    .await?;
    let claims = MfaClaims {
        iss: keys.issuer().to_owned(),
        aud: keys.audience().to_owned(),
        sub: tx.account_id(),
        exp: (now + MFA_TTL).timestamp(),
        nbf: now.timestamp(),
        iat: now.timestamp(),
        jti: challenge,
    };
    Ok(Outcome::MfaRequired {
        mfa_required: true,
        mfa_token: keys.sign(TokenType::MfaPending, &claims)?,
        expires_in: MFA_TTL.num_seconds(),
    })
}

/// Consumes the challenge of a verified MFA token (single use, unexpired) and returns the first
/// factor it recorded. The caller checks the code and then calls [`finish_mfa`] in the same
/// transaction.
pub async fn consume_mfa_challenge(
    tx: &mut AccountTx,
    claims: &MfaClaims,
) -> Result<Vec<String>, Error> {
    let first: Option<Vec<String>> = sqlx::query_scalar(
        "update mfa_challenges set used_at = now()
         where id = $1 and account_id = $2 and used_at is null and expires_at > now()
         returning amr",
    )
    .bind(claims.jti)
    .bind(claims.sub)
    .fetch_optional(&mut **tx)
    .await?;
    first.ok_or(Error::Unauthorized)
}

/// Tokens for an account that gave its second factor after `first_factors`.
pub async fn finish_mfa(
    tx: &mut AccountTx,
    keys: &SigningKeys,
    first_factors: &[String],
    user_agent: Option<&str>,
) -> Result<Tokens, Error> {
    let mut methods: Vec<&str> = first_factors.iter().map(String::as_str).collect();
    methods.extend([amr::OTP, amr::MFA]);
    let tokens = session::start(tx, keys, &Proof::now(&methods), user_agent).await?;
    audit::record_for_account(tx, "signin.succeeded", json!({ "amr": methods })).await?;
    Ok(tokens)
}
