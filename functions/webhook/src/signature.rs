//! GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed
//! by the secret's UTF-8 bytes, checked in constant time against every active secret (rotation).

use hmac::{Hmac, KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

/// Why a signature header was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// Not `sha256=` followed by 64 hex digits.
    Malformed,
    /// No active secret produces it.
    Mismatch,
}

/// Checks `header` against `body` with each of `secrets` in turn.
pub fn verify(secrets: &[SecretString], body: &[u8], header: &str) -> Result<(), SignatureError> {
    let hex_digest = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let mut expected = [0_u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;
    let matches = secrets.iter().any(|secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `sha256=<hex>` for `body` under `secret`: what GitHub sends (tests and tools sign with it).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB_SECRET: &str = "It's a Secret to Everybody";
    const GITHUB_SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn secrets(values: &[&str]) -> Vec<SecretString> {
        values
            .iter()
            .map(|v| SecretString::from((*v).to_owned()))
            .collect()
    }

    #[test]
    fn githubs_known_answer_vector_verifies() {
        assert_eq!(sign(GITHUB_SECRET, b"Hello, World!"), GITHUB_SIGNATURE);
        assert_eq!(
            verify(
                &secrets(&[GITHUB_SECRET]),
                b"Hello, World!",
                GITHUB_SIGNATURE
            ),
            Ok(())
        );
    }

    #[test]
    fn a_tampered_body_or_wrong_secret_is_a_mismatch() {
        let tampered = verify(
            &secrets(&[GITHUB_SECRET]),
            b"Hello, World?",
            GITHUB_SIGNATURE,
        );
        assert_eq!(tampered, Err(SignatureError::Mismatch));
        let wrong = verify(
            &secrets(&["another secret"]),
            b"Hello, World!",
            GITHUB_SIGNATURE,
        );
        assert_eq!(wrong, Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_previous_secret_still_verifies_during_a_rotation() {
        let rotated = secrets(&["the new secret", GITHUB_SECRET]);
        assert_eq!(verify(&rotated, b"Hello, World!", GITHUB_SIGNATURE), Ok(()));
    }

    #[test]
    fn malformed_headers_are_told_apart_from_mismatches() {
        let s = secrets(&[GITHUB_SECRET]);
        for header in [
            "",
            "sha1=abc",
            "sha256=",
            "sha256=zz",
            &GITHUB_SIGNATURE[..70],
            "SHA256=757107ea",
        ] {
            assert_eq!(
                verify(&s, b"Hello, World!", header),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
