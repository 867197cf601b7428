//! Time-based one-time passwords (notes/auth.md T1–T4, T6): a 20-byte secret, 6-digit codes of
//! HMAC-SHA1 over 30-second steps (what authenticator apps expect), the current step ±1 accepted
//! and never a step at or before the last one used; the enrolment URI and its QR code; the 10
//! recovery codes and the hash under which they are stored.

use anyhow::Context as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest as _, Sha256};
use totp_rs::{Algorithm, Builder};

/// Bytes of a TOTP secret: 160 bits, RFC 4226's recommendation (T4).
pub const SECRET_BYTES: usize = 20;
/// Digits of a code (T1).
pub const DIGITS: u8 = 6;
/// Seconds of a step (T1).
pub const STEP_SECONDS: u64 = 30;
/// Steps of clock skew accepted either side of the current one (T2).
pub const SKEW_STEPS: i64 = 1;
/// Recovery codes made at enrolment (T6).
pub const RECOVERY_CODES: usize = 10;

/// A new secret from the OS's random number generator. Store it sealed (T4):
/// `SecretBox::seal(encode_secret(&secret).as_bytes(), …)`, since `SecretBox::open` yields text.
pub fn generate_secret() -> anyhow::Result<[u8; SECRET_BYTES]> {
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)
        .map_err(|error| anyhow::anyhow!("the OS random number generator failed: {error}"))?;
    Ok(secret)
}

/// The secret as unpadded RFC 4648 base32, the form authenticator apps are given (and a text form
/// to store).
pub fn encode_secret(secret: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret)
}

/// The secret from [`encode_secret`]'s form; `None` when it is not base32.
pub fn decode_secret(encoded: &str) -> Option<Vec<u8>> {
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, encoded)
}

/// Checks `code` (6 ASCII digits; surrounding whitespace ignored) against the steps around
/// `now_unix`: the current step and one either side, but only steps after `last_used_step`, so a
/// code works once (RFC 6238 §5.2). Returns the accepted step, which the caller stores as the new
/// `last_used_step` in the same transaction that accepts the sign-in. A secret shorter than 128
/// bits verifies nothing.
pub fn verify(
    secret: &[u8],
    code: &str,
    now_unix: u64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(0)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .build()
        .ok()?;
    let current = i64::try_from(now_unix / STEP_SECONDS).ok()?;
    let after_last = last_used_step.map_or(0, |last| last.saturating_add(1));
    let first = (current - SKEW_STEPS).max(after_last).max(0);
    (first..=current + SKEW_STEPS).find(|&step| {
        let at = u64::try_from(step).unwrap_or_default() * STEP_SECONDS;
        totp.check(code, at).is_some()
    })
}

/// The characters left as they are in an `otpauth://` label or parameter: RFC 3986's unreserved.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The enrolment URI an authenticator app reads (Google Authenticator's key URI format):
/// `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`,
/// issuer and account percent-encoded.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let secret = encode_secret(secret);
    let issuer = utf8_percent_encode(issuer, COMPONENT).to_string();
    let account = utf8_percent_encode(account, COMPONENT);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

/// The QR code of `uri` as an SVG document (fails only when `uri` is too long for a QR code).
pub fn qr_svg(uri: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).context("the URI does not fit in a QR code")?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

/// Characters of a recovery code, in groups of [`RECOVERY_GROUP`]: 20 Crockford base32 characters
/// carry 100 random bits (T6 asks for at least 80).
const RECOVERY_CHARS: usize = 20;
/// Random bytes encoded for a code: 104 bits, of which the first 20 characters keep 100.
const RECOVERY_RANDOM_BYTES: usize = 13;
const RECOVERY_GROUP: usize = 5;

/// Ten new recovery codes such as `7hq2x-m4k9d-0vz3r-b8nw5`: lowercase Crockford base32 (no i, l,
/// o or u), which is easy to read out and type. Show them once; store [`hash_recovery_code`] of each.
pub fn generate_recovery_codes() -> anyhow::Result<Vec<String>> {
    (0..RECOVERY_CODES)
        .map(|_| generate_recovery_code())
        .collect()
}

fn generate_recovery_code() -> anyhow::Result<String> {
    let mut random = [0u8; RECOVERY_RANDOM_BYTES];
    getrandom::fill(&mut random)
        .map_err(|error| anyhow::anyhow!("the OS random number generator failed: {error}"))?;
    let encoded = base32::encode(base32::Alphabet::Crockford, &random).to_lowercase();
    let groups: Vec<&str> = (0..RECOVERY_CHARS)
        .step_by(RECOVERY_GROUP)
        .map(|start| &encoded[start..start + RECOVERY_GROUP])
        .collect();
    Ok(groups.join("-"))
}

/// The SHA-256 under which a recovery code is stored and looked up. The code is normalized first:
/// case, dashes and whitespace do not matter, and the letters Crockford reads as digits (o → 0,
/// i and l → 1) are read so. The codes are random (100 bits), so a fast hash is enough.
pub fn hash_recovery_code(code: &str) -> [u8; 32] {
    let normalized: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    Sha256::digest(normalized.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_sha1_vectors_verify_as_their_last_six_digits() {
        // (time, the RFC's 8-digit code): a 6-digit code is the same value modulo 10^6.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, code) in vectors {
            let step = i64::try_from(time / STEP_SECONDS).unwrap();
            assert_eq!(
                verify(RFC_SECRET, &code[2..], time, None),
                Some(step),
                "{time}"
            );
        }
    }

    #[test]
    fn one_step_of_skew_is_accepted_either_way_and_two_are_not() {
        let code = "081804"; // step 37037036
        let step = 37_037_036;
        let at = |offset: i64| u64::try_from((step + offset) * 30).unwrap();
        assert_eq!(verify(RFC_SECRET, code, at(0), None), Some(step));
        assert_eq!(verify(RFC_SECRET, code, at(1), None), Some(step));
        assert_eq!(verify(RFC_SECRET, code, at(-1), None), Some(step));
        assert_eq!(verify(RFC_SECRET, code, at(2), None), None);
        assert_eq!(verify(RFC_SECRET, code, at(-2), None), None);
    }

    #[test]
    fn a_step_already_used_is_refused() {
        let now = 1_111_111_109;
        let step = verify(RFC_SECRET, "081804", now, None).unwrap();
        assert_eq!(verify(RFC_SECRET, "081804", now, Some(step)), None);
        assert_eq!(verify(RFC_SECRET, "081804", now + 30, Some(step)), None);
        // A later code after it is fine; an earlier one is not.
        assert_eq!(
            verify(RFC_SECRET, "081804", now, Some(step - 1)),
            Some(step)
        );
        assert_eq!(verify(RFC_SECRET, "081804", now, Some(step + 1)), None);
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_refused() {
        let now = 1_111_111_109;
        for code in [
            "",
            "08180",
            "0818040",
            "08180a",
            "+81804",
            "081 804",
            "０８１８０４",
        ] {
            assert_eq!(verify(RFC_SECRET, code, now, None), None, "{code:?}");
        }
        assert!(verify(RFC_SECRET, " 081804\n", now, None).is_some());
    }

    #[test]
    fn a_wrong_code_is_refused() {
        assert_eq!(verify(RFC_SECRET, "081805", 1_111_111_109, None), None);
    }

    #[test]
    fn a_new_secret_is_random_and_verifies_its_own_codes() {
        let secret = generate_secret().unwrap();
        assert_ne!(secret, generate_secret().unwrap());
        let totp = Builder::new().with_secret(secret.to_vec()).build().unwrap();
        let now = 1_800_000_000;
        let code = totp.generate(now).to_string();
        assert_eq!(verify(&secret, &code, now, None), Some(60_000_000));
    }

    #[test]
    fn a_secret_survives_its_text_form() {
        let secret = generate_secret().unwrap();
        let encoded = encode_secret(&secret);
        assert_eq!(encoded.len(), 32);
        assert_eq!(decode_secret(&encoded).unwrap(), secret);
        assert_eq!(decode_secret("not base32!"), None);
    }

    #[test]
    fn a_short_secret_verifies_nothing() {
        let short = &RFC_SECRET[..15];
        let totp = Builder::new()
            .with_secret(short.to_vec())
            .build_noncompliant();
        let code = totp.generate(1_111_111_109).to_string();
        assert_eq!(verify(short, &code, 1_111_111_109, None), None);
    }

    #[test]
    fn the_otpauth_uri_encodes_issuer_and_account() {
        let uri = otpauth_uri(RFC_SECRET, "Dash board", "ann+1@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Dash%20board:ann%2B1%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Dash%20board\
             &algorithm=SHA1&digits=6&period=30"
        );
        let hostile = otpauth_uri(RFC_SECRET, "a:b&c=d", "x?y#z/");
        assert!(hostile.starts_with("otpauth://totp/a%3Ab%26c%3Dd:x%3Fy%23z%2F?"));
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg(&otpauth_uri(RFC_SECRET, "Dashboard", "ann@example.com")).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("<svg"));
        assert!(qr_svg(&"x".repeat(8000)).is_err());
    }

    #[test]
    fn recovery_codes_are_ten_distinct_groups_of_base32() {
        let codes = generate_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for code in &codes {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 4, "{code}");
            assert!(groups.iter().all(|group| group.len() == 5));
            assert!(
                code.chars()
                    .all(|c| c == '-' || "0123456789abcdefghjkmnpqrstvwxyz".contains(c))
            );
        }
    }

    #[test]
    fn a_recovery_code_hashes_the_same_however_it_is_typed() {
        let stored = hash_recovery_code("7hq2x-m4k9d-0vz3r-b8nw5");
        for typed in [
            "7HQ2X-M4K9D-0VZ3R-B8NW5",
            "7hq2xm4k9d0vz3rb8nw5",
            " 7hq2x m4k9d ovz3r b8nw5 ",
        ] {
            assert_eq!(hash_recovery_code(typed), stored, "{typed}");
        }
        assert_ne!(hash_recovery_code("7hq2x-m4k9d-0vz3r-b8nw6"), stored);
    }
}
