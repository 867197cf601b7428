//! Opaque secrets we hand out — refresh tokens, API tokens, emailed links, invitations: 256 random
//! bits (R1), URL-safe, behind a prefix that says what they are (so secret scanners and people can
//! recognise them, G5). Only their SHA-256 is stored; a presented value is looked up by its hash.

use base64::Engine as _;
use dashboard_shared::crypto::random_bytes;
use sha2::{Digest as _, Sha256};

/// Refresh tokens.
pub const REFRESH_PREFIX: &str = "dash_rt_";
/// Personal API tokens.
pub const API_TOKEN_PREFIX: &str = "dash_pat_";
/// Emailed links (email verification, password reset).
pub const EMAIL_LINK_PREFIX: &str = "dash_el_";
/// Invitations.
pub const INVITATION_PREFIX: &str = "dash_inv_";

/// A new secret with `prefix` and its hash to store.
pub fn new_token(prefix: &str) -> (String, [u8; 32]) {
    let random = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let token = format!("{prefix}{random}");
    let hash = hash(&token);
    (token, hash)
}

/// The SHA-256 of a presented secret, as stored.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_256_random_bits() {
        let (a, hash_a) = new_token(API_TOKEN_PREFIX);
        let (b, _) = new_token(API_TOKEN_PREFIX);
        assert!(a.starts_with("dash_pat_"));
        assert_eq!(a.len(), "dash_pat_".len() + 43);
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash_a);
    }
}
