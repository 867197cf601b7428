//! A short memory of access tokens already verified, so that a client calling many times with the
//! same token pays the signature check once: keyed by the SHA-256 of the whole token (only tokens
//! that passed every check of [`SigningKeys::verify`] go in), bounded in size, and every hit is
//! checked against the token's own expiry again. What must be fresh on every request — the account's
//! cut-off and the membership (J6, J7) — is read from the database whatever this says.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use moka::future::Cache;

use super::{
    keys::{SigningKeys, TokenType},
    opaque,
    session::AccessClaims,
};

/// Tokens remembered at most (about 1 KiB each).
const CAPACITY: u64 = 20_000;
/// How long one is remembered (its expiry still applies).
const KEEP: Duration = Duration::from_secs(300);
/// The clock skew `SigningKeys::verify` allows on `exp`.
const LEEWAY_SECS: i64 = 30;

/// Verified access tokens, shared by the instance's requests.
#[derive(Clone)]
pub struct VerifiedTokens {
    // Behind an `Arc`: the state holding it is cloned for every request, and a `Cache`'s own clone
    // copies several handles.
    cache: Arc<Cache<[u8; 32], Arc<AccessClaims>>>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens")
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self {
            cache: Arc::new(
                Cache::builder()
                    .max_capacity(CAPACITY)
                    .time_to_live(KEEP)
                    .build(),
            ),
        }
    }
}

impl VerifiedTokens {
    /// The claims of `token` if it is a valid access token: from memory when it was verified
    /// before and has not expired since, else checked by `keys` (and remembered when valid).
    pub async fn access_claims(
        &self,
        keys: &SigningKeys,
        token: &str,
    ) -> Option<Arc<AccessClaims>> {
        let key = opaque::hash(token);
        let now = Utc::now().timestamp();
        if let Some(claims) = self.cache.get(&key).await {
            return (claims.exp + LEEWAY_SECS > now).then_some(claims);
        }
        let claims = Arc::new(keys.verify::<AccessClaims>(TokenType::Access, token)?);
        self.cache.insert(key, claims.clone()).await;
        Some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_keys() -> SigningKeys {
        SigningKeys::from_pem(
            &SigningKeys::generate_pem(),
            "https://d.example",
            "dashboard-api",
        )
        .unwrap()
    }

    fn claims(exp_in: i64) -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            iss: "https://d.example".into(),
            aud: "dashboard-api".into(),
            sub: uuid::Uuid::new_v4(),
            exp: now + exp_in,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4(),
            sid: uuid::Uuid::new_v4(),
            auth_time: now,
            amr: vec!["pwd".into()],
        }
    }

    #[tokio::test]
    async fn a_remembered_token_still_expires_and_a_forged_one_is_never_remembered() {
        let keys = new_keys();
        let verified = VerifiedTokens::default();
        let token = keys.sign(TokenType::Access, &claims(3600)).unwrap();
        assert!(verified.access_claims(&keys, &token).await.is_some());
        assert!(
            verified.access_claims(&keys, &token).await.is_some(),
            "from memory"
        );

        // A token that was valid when remembered is refused once its expiry (plus leeway) passes.
        let expiring = claims(-LEEWAY_SECS + 1);
        let short = keys.sign(TokenType::Access, &expiring).unwrap();
        let remembered = Arc::new(AccessClaims {
            exp: Utc::now().timestamp() - LEEWAY_SECS - 1,
            ..expiring
        });
        verified
            .cache
            .insert(opaque::hash(&short), remembered)
            .await;
        assert!(verified.access_claims(&keys, &short).await.is_none());

        let other = new_keys().sign(TokenType::Access, &claims(3600)).unwrap();
        assert!(verified.access_claims(&keys, &other).await.is_none());
        assert!(verified.cache.get(&opaque::hash(&other)).await.is_none());
    }
}
