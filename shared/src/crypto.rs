//! Encryption at rest for secrets kept in rows (repository webhook secrets; later OAuth tokens):
//! AES-256-GCM with a key from `SECRETS_ENCRYPTION_KEY` (32 bytes, base64). A sealed value is
//! `1 || nonce (12 bytes) || ciphertext+tag`, bound to a context string (for example the tenant and
//! repository it belongs to) so that a value copied into another row does not open.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore},
};
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::config::{ConfigError, Env};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// A sealed value did not open: wrong key, wrong context, or damaged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a stored secret could not be decrypted (wrong key or context, or damaged)")]
pub struct OpenError;

/// Seals and opens secrets with the deployment's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// The box for `SECRETS_ENCRYPTION_KEY`, or `None` when it is unset.
    pub fn from_lookup(env: &Env) -> Result<Option<Self>, ConfigError> {
        const NAME: &str = "SECRETS_ENCRYPTION_KEY";
        if env.get(NAME).is_none() {
            return Ok(None);
        }
        let encoded = env.secret(NAME)?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded.expose_secret())
            .ok()
            .filter(|key| key.len() == 32)
            .ok_or(ConfigError::Invalid {
                name: NAME,
                reason: "must be 32 bytes in base64".into(),
            })?;
        Ok(Some(Self::from_key(&key)))
    }

    /// A box for a raw 32-byte key (panics on another length: keys come from [`SecretBox::from_lookup`]).
    pub fn from_key(key: &[u8]) -> Self {
        Self {
            cipher: Aes256Gcm::new_from_slice(key).expect("the key is 32 bytes"),
        }
    }

    /// Encrypts `plaintext`, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for in-memory buffers");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a value sealed for `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<SecretString, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                &Nonce::from(<[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| OpenError)?),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| OpenError)
    }
}

/// A new random secret of `bytes` random bytes, as hex (what we give GitHub for a repository hook).
pub fn random_secret(bytes: usize) -> SecretString {
    let mut raw = vec![0_u8; bytes];
    OsRng.fill_bytes(&mut raw);
    SecretString::from(hex::encode(raw))
}

/// `N` bytes from the operating system's CSPRNG (tokens, TOTP secrets, key material).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut raw = [0_u8; N];
    OsRng.fill_bytes(&mut raw);
    raw
}

/// The context a repository's webhook secrets are sealed for.
pub fn webhook_secret_context(tenant: uuid::Uuid, repository: uuid::Uuid) -> String {
    format!("webhook-secret:{tenant}:{repository}")
}

/// The context a repository's git credential (token or SSH key) is sealed for.
pub fn git_credential_context(tenant: uuid::Uuid, repository: uuid::Uuid) -> String {
    format!("git-credential:{tenant}:{repository}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let secret_box = SecretBox::from_key(&[7; 32]);
        let sealed = secret_box.seal(b"hook secret", "webhook-secret:a:b");
        assert_eq!(
            secret_box
                .open(&sealed, "webhook-secret:a:b")
                .unwrap()
                .expose_secret(),
            "hook secret"
        );
        assert_eq!(
            secret_box.open(&sealed, "webhook-secret:a:c").unwrap_err(),
            OpenError
        );
        assert_eq!(
            SecretBox::from_key(&[8; 32])
                .open(&sealed, "webhook-secret:a:b")
                .unwrap_err(),
            OpenError
        );
        let mut damaged = sealed;
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(
            secret_box.open(&damaged, "webhook-secret:a:b").unwrap_err(),
            OpenError
        );
        assert_ne!(
            secret_box.seal(b"hook secret", "x"),
            secret_box.seal(b"hook secret", "x"),
            "fresh nonces"
        );
    }

    #[test]
    fn the_key_must_be_32_bytes_of_base64() {
        let short = Env::from_pairs(&[("SECRETS_ENCRYPTION_KEY", "c2hvcnQ=")]);
        let error = SecretBox::from_lookup(&short).unwrap_err().to_string();
        assert!(
            error.contains("SECRETS_ENCRYPTION_KEY") && !error.contains("c2hvcnQ"),
            "{error}"
        );
        let good = base64::engine::general_purpose::STANDARD.encode([1_u8; 32]);
        assert!(
            SecretBox::from_lookup(&Env::from_pairs(&[("SECRETS_ENCRYPTION_KEY", &good)]))
                .unwrap()
                .is_some()
        );
        assert!(
            SecretBox::from_lookup(&Env::from_pairs(&[]))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn random_secrets_have_the_asked_strength() {
        let secret = random_secret(32);
        assert_eq!(secret.expose_secret().len(), 64);
        assert_ne!(secret.expose_secret(), random_secret(32).expose_secret());
    }
}
