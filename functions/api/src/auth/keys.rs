//! Our token signing keys: Ed25519 (EdDSA, J1) keys from `JWT_SIGNING_KEYS`, the first of which signs
//! and all of which verify (rotation without sign-outs, J5), each known by its RFC 7638 thumbprint as
//! `kid`. Tokens are checked against these keys only, with one algorithm pinned, every registered
//! claim required and the `typ` header compared (J2–J5); nothing in a token's header picks a key.

use std::collections::HashMap;

use anyhow::Context as _;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    jwk::{Jwk, JwkSet, ThumbprintHash},
};
use serde::{Serialize, de::DeserializeOwned};

/// Leeway for clock skew when checking `exp` and `nbf` (J3: 30 s).
const LEEWAY_SECS: u64 = 30;

/// The kinds of token we sign, each with its own `typ` so that one never passes for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// An access token (RFC 9068).
    Access,
    /// The step between a correct password and tokens when MFA is on (T6).
    MfaPending,
    /// The `state` of a GitHub App install flow, bound to a person, an organization and a browser.
    GitHubInstall,
}

impl TokenType {
    fn typ(self) -> &'static str {
        match self {
            Self::Access => "at+jwt",
            Self::MfaPending => "mfa+jwt",
            Self::GitHubInstall => "github-install+jwt",
        }
    }
}

/// The deployment's signing keys and what tokens must say.
pub struct SigningKeys {
    kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: JwkSet,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.kid)
            .field("keys", &self.verifying.len())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Keys from PEM text holding one or more PKCS#8 Ed25519 private keys, newest first.
    pub fn from_pem(pem_text: &str, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let blocks = pem::parse_many(pem_text).context("JWT_SIGNING_KEYS is not PEM")?;
        anyhow::ensure!(!blocks.is_empty(), "JWT_SIGNING_KEYS holds no key");
        let mut keys = Vec::new();
        for block in &blocks {
            anyhow::ensure!(
                block.tag() == "PRIVATE KEY",
                "JWT_SIGNING_KEYS must hold PKCS#8 Ed25519 private keys (`-----BEGIN PRIVATE KEY-----`)"
            );
            let encoding = EncodingKey::from_ed_der(block.contents());
            let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
                .context("JWT_SIGNING_KEYS holds a key that is not Ed25519")?;
            let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
            jwk.common.key_id = Some(kid.clone());
            jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
            let decoding = DecodingKey::from_jwk(&jwk)?;
            keys.push((kid, encoding, decoding, jwk));
        }
        let (kid, signing, _, _) = keys[0].clone();
        Ok(Self {
            kid,
            signing,
            verifying: keys
                .iter()
                .map(|(kid, _, decoding, _)| (kid.clone(), decoding.clone()))
                .collect(),
            jwks: JwkSet {
                keys: keys.into_iter().map(|(_, _, _, jwk)| jwk).collect(),
            },
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// A new Ed25519 private key as PKCS#8 PEM (`dashboard` keeps one in its data directory).
    pub fn generate_pem() -> String {
        use aws_lc_rs::signature::Ed25519KeyPair;
        let document = Ed25519KeyPair::generate_pkcs8v1(&aws_lc_rs::rand::SystemRandom::new())
            .expect("the system random generator works");
        pem::encode(&pem::Pem::new("PRIVATE KEY", document.as_ref()))
    }

    /// The issuer (`iss`) our tokens carry: the public URL of the deployment.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`) our access tokens carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The public keys, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs `claims` as a token of type `kind` with the current key.
    pub fn sign<T: Serialize>(&self, kind: TokenType, claims: &T) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(kind.typ().to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.signing).context("failed to sign a token")
    }

    /// Checks a token of type `kind`: our key by `kid`, EdDSA only, `iss`, `aud`, `sub`, `exp` and
    /// `nbf` present and valid. Any failure is `None`: callers answer 401 without saying why.
    pub fn verify<T: DeserializeOwned>(&self, kind: TokenType, token: &str) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(kind.typ()) {
            return None;
        }
        let key = self.verifying.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        jsonwebtoken::decode::<T>(token, key, &validation)
            .ok()
            .map(|data| data.claims)
    }
}
