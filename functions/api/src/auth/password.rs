//! Passwords (notes/auth.md P1–P5): Argon2id hashing with the `argon2` crate's defaults
//! (m=19456 KiB, t=2, p=1), run off the async threads and at most a few at a time (each hash takes
//! 19 MiB), verification that costs the same for an unknown account, and the rules a new password
//! must meet.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
};

use anyhow::Context as _;
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use dashboard_shared::config::Env;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Semaphore;

/// How many hashes may run at once by default: 4 × 19 MiB per 512 MiB instance (P3).
pub const DEFAULT_CONCURRENT_HASHES: usize = 4;
/// The shortest password accepted from an account without MFA (P4, NIST 800-63B-4).
pub const MIN_CHARS_WITHOUT_MFA: usize = 15;
/// The shortest password accepted from an account with MFA.
pub const MIN_CHARS_WITH_MFA: usize = 8;
/// The longest password accepted; longer ones are refused, never truncated.
pub const MAX_CHARS: usize = 256;

/// Hashes and verifies passwords; cheap to clone (the permits are shared).
#[derive(Clone, Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(DEFAULT_CONCURRENT_HASHES)
    }
}

impl Passwords {
    /// Allows `concurrent` hashes (or verifications) at once; others wait their turn.
    pub fn new(concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
        }
    }

    /// From `PASSWORD_HASH_CONCURRENCY` (1 to 64, default [`DEFAULT_CONCURRENT_HASHES`]): raise it
    /// with the instance's memory, 19 MiB a hash.
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        let concurrent = env.parse_in(
            "PASSWORD_HASH_CONCURRENCY",
            DEFAULT_CONCURRENT_HASHES,
            1..=64,
        )?;
        Ok(Self::new(concurrent))
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) to store for `password`,
    /// with a fresh 16-byte salt from the OS.
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let password = password.clone();
        self.blocking(move || {
            Argon2::default()
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|error| anyhow::anyhow!("failed to hash a password: {error}"))
        })
        .await?
    }

    /// Whether `password` matches `stored`. Without a stored hash (unknown account, or an account
    /// without a password) it verifies against a dummy hash and answers `false`, so that the
    /// answer takes as long either way (P5). A malformed stored hash is `false` too, logged.
    /// A password longer than [`MAX_CHARS`] could never have been set and is refused at once,
    /// whatever the account (a megabyte of password would otherwise be hashed).
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> bool {
        if password.expose_secret().chars().nth(MAX_CHARS).is_some() {
            return false;
        }
        let password = password.clone();
        let stored = stored.map(str::to_owned);
        let outcome = self
            .blocking(move || {
                let (hash, known) = match &stored {
                    Some(stored) => (stored.as_str(), true),
                    None => (DUMMY_HASH.as_str(), false),
                };
                let hash =
                    PasswordHash::new(hash).context("a stored password hash is malformed")?;
                let matches = Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &hash)
                    .is_ok();
                anyhow::Ok(known && matches)
            })
            .await;
        match outcome {
            Ok(Ok(matches)) => matches,
            Ok(Err(error)) | Err(error) => {
                tracing::warn!(error = %error, "password verification failed");
                false
            }
        }
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the task, so a
    /// caller that gives up (a dropped request) does not free it before the hash is done.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .context("the password hashing permits are closed")?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .context("a password hashing task failed")
    }
}

/// A hash of a random password with the current parameters, made once per process: what an unknown
/// account's attempt is verified against.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut password = [0u8; 32];
    getrandom::fill(&mut password).expect("the OS random number generator failed");
    Argon2::default()
        .hash_password(&password)
        .expect("hashing the dummy password failed")
        .to_string()
});

/// Why a new password is refused; the message is meant for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    /// Fewer characters than the account's minimum.
    #[error("the password must have at least {min} characters")]
    TooShort {
        /// The minimum that applies (8 with MFA, 15 without).
        min: usize,
    },
    /// More than [`MAX_CHARS`] characters.
    #[error("the password must have at most {max} characters")]
    TooLong {
        /// [`MAX_CHARS`].
        max: usize,
    },
    /// On the list of common passwords.
    #[error("this password is too common: choose one that is harder to guess")]
    Common,
    /// Equal to, or contains, the email address's name.
    #[error("the password must not contain your email address")]
    ContainsEmail,
}

/// Checks a password someone is choosing (sign-up, change, reset) against P4: at least 15
/// characters, or 8 when the account has MFA (characters, not bytes); at most 256; not a common
/// password (case-insensitive); not containing the email's local part (before `@` and any `+tag`,
/// when it has 3 characters or more; always refused when equal).
pub fn check_new_password(
    password: &str,
    email: &str,
    mfa_enabled: bool,
) -> Result<(), PasswordRejected> {
    let chars = password.chars().count();
    if chars > MAX_CHARS {
        return Err(PasswordRejected::TooLong { max: MAX_CHARS });
    }
    let min = if mfa_enabled {
        MIN_CHARS_WITH_MFA
    } else {
        MIN_CHARS_WITHOUT_MFA
    };
    if chars < min {
        return Err(PasswordRejected::TooShort { min });
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lowered.trim()) {
        return Err(PasswordRejected::Common);
    }
    let local = email.split('@').next().unwrap_or_default();
    let local = local.split('+').next().unwrap_or_default().to_lowercase();
    if !local.is_empty()
        && (lowered == local || (local.chars().count() >= 3 && lowered.contains(&local)))
    {
        return Err(PasswordRejected::ContainsEmail);
    }
    Ok(())
}

/// The shipped list (see the header of `common-passwords.txt` for its source and licence).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && *line != "#" && !line.starts_with("# "))
        .collect()
});

#[cfg(test)]
mod tests {
    use argon2::Params;

    use super::*;

    fn secret(password: &str) -> SecretString {
        SecretString::from(password.to_owned())
    }

    /// (algorithm, version, m, t, p) of a PHC string.
    fn parameters(phc: &str) -> (String, u32, u32, u32, u32) {
        let hash = PasswordHash::new(phc).unwrap();
        let params = Params::try_from(&hash).unwrap();
        let version = hash.version.unwrap();
        let algorithm = hash.algorithm.as_str().to_owned();
        (
            algorithm,
            version,
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
        )
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_owasp_parameters() {
        let passwords = Passwords::default();
        let hash = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_eq!(parameters(&hash), ("argon2id".into(), 19, 19_456, 2, 1));
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_and_no_other_does() {
        let passwords = Passwords::default();
        let hash = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(
            passwords
                .verify(&secret("correct horse battery staple"), Some(&hash))
                .await
        );
        assert!(
            !passwords
                .verify(&secret("correct horse battery stapl"), Some(&hash))
                .await
        );
        assert!(!passwords.verify(&secret(""), Some(&hash)).await);
    }

    #[tokio::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let passwords = Passwords::default();
        let first = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        let second = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_and_costs_a_real_hash() {
        let passwords = Passwords::default();
        assert!(!passwords.verify(&secret("anything at all"), None).await);
        // The dummy has the parameters of a real hash, so it takes as long to check.
        let real = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_eq!(parameters(&DUMMY_HASH), parameters(&real));
    }

    #[tokio::test]
    async fn a_password_longer_than_any_accepted_never_verifies() {
        let passwords = Passwords::default();
        let long = "a".repeat(MAX_CHARS + 1);
        let hash = passwords.hash(&secret(&long)).await.unwrap();
        assert!(!passwords.verify(&secret(&long), Some(&hash)).await);
        let longest = "a".repeat(MAX_CHARS);
        let hash = passwords.hash(&secret(&longest)).await.unwrap();
        assert!(passwords.verify(&secret(&longest), Some(&hash)).await);
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_does_not_verify() {
        let passwords = Passwords::default();
        for stored in ["", "plaintext", "$argon2id$v=19$m=19456,t=2,p=1$broken"] {
            assert!(
                !passwords.verify(&secret("plaintext"), Some(stored)).await,
                "{stored}"
            );
        }
    }

    /// Polls `future` once: whether it is still pending.
    async fn still_pending<F: Future + Unpin>(future: &mut F) -> bool {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx).is_pending())
        })
        .await
    }

    #[tokio::test]
    async fn a_hash_waits_for_a_free_permit() {
        let passwords = Passwords::new(1);
        let held = Arc::clone(&passwords.permits)
            .acquire_owned()
            .await
            .unwrap();
        let password = secret("correct horse battery staple");
        let mut hashing = Box::pin(passwords.hash(&password));
        assert!(
            still_pending(&mut hashing).await,
            "a hash finished without a permit"
        );
        drop(held);
        // Polled again, the hash takes the freed permit and keeps it while it runs.
        assert!(still_pending(&mut hashing).await);
        assert_eq!(
            passwords.permits.available_permits(),
            0,
            "the hash runs without a permit"
        );
        assert!(hashing.await.is_ok());
        assert_eq!(
            passwords.permits.available_permits(),
            1,
            "the permit comes back"
        );
    }

    #[test]
    fn the_hashing_concurrency_comes_from_the_environment() {
        let env = Env::from_pairs(&[("PASSWORD_HASH_CONCURRENCY", "2")]);
        let passwords = Passwords::from_env(&env).unwrap();
        assert_eq!(passwords.permits.available_permits(), 2);
        let default = Passwords::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(
            default.permits.available_permits(),
            DEFAULT_CONCURRENT_HASHES
        );
        let zero = Env::from_pairs(&[("PASSWORD_HASH_CONCURRENCY", "0")]);
        assert!(Passwords::from_env(&zero).is_err());
    }

    #[test]
    fn the_minimum_length_is_15_without_mfa_and_8_with_it() {
        let email = "ann@example.com";
        let fourteen = "zebra-kite-mug";
        assert_eq!(fourteen.len(), 14);
        assert_eq!(
            check_new_password(fourteen, email, false),
            Err(PasswordRejected::TooShort { min: 15 })
        );
        assert_eq!(check_new_password("zebra-kite-mugs", email, false), Ok(()));
        assert_eq!(check_new_password(fourteen, email, true), Ok(()));
        assert_eq!(
            check_new_password("zebra-k", email, true),
            Err(PasswordRejected::TooShort { min: 8 })
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let email = "ann@example.com";
        assert_eq!(check_new_password(&"é".repeat(15), email, false), Ok(()));
        assert_eq!(
            check_new_password(&"é".repeat(14), email, false),
            Err(PasswordRejected::TooShort { min: 15 })
        );
    }

    #[test]
    fn a_password_over_256_characters_is_refused_not_truncated() {
        let email = "ann@example.com";
        let long = "horse-battery-".repeat(20);
        assert_eq!(check_new_password(&long[..256], email, false), Ok(()));
        assert_eq!(
            check_new_password(&long[..257], email, false),
            Err(PasswordRejected::TooLong { max: 256 })
        );
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_case() {
        let email = "ann@example.com";
        for password in ["PassWord1", "iloveyou", " QWERTYUIOP ", "yfdbufnjh10305070"] {
            assert_eq!(
                check_new_password(password, email, true),
                Err(PasswordRejected::Common),
                "{password}"
            );
        }
        assert!(COMMON_PASSWORDS.len() > 8_000);
        assert!(
            COMMON_PASSWORDS.contains("#1stunna"),
            "an entry starting with #"
        );
        assert!(!COMMON_PASSWORDS.iter().any(|p| p.starts_with("# ")));
    }

    #[test]
    fn a_password_containing_the_email_name_is_refused() {
        let rejected = Err(PasswordRejected::ContainsEmail);
        let email = "Ann.Smith+work@example.com";
        assert_eq!(check_new_password("ann.smith", email, true), rejected);
        assert_eq!(
            check_new_password("my name is ANN.SMITH ok", email, false),
            rejected
        );
        assert_eq!(check_new_password("zebra-kite-mugs", email, false), Ok(()));
        // A name of one or two letters only counts when it is the whole password.
        assert_eq!(
            check_new_password("zebra-kite-mugs", "z@example.com", false),
            Ok(())
        );
    }

    #[test]
    fn rejections_speak_to_the_person() {
        assert_eq!(
            PasswordRejected::TooShort { min: 15 }.to_string(),
            "the password must have at least 15 characters"
        );
    }
}
