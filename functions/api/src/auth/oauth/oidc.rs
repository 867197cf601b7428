//! OpenID Connect (any issuer by discovery; Google is one): the discovery document and the
//! issuer's keys, fetched on first use and cached; the authorization URL with a nonce; the ID token
//! verified by its `kid` against the issuer's keys with the algorithm the key names (RS256 or
//! ES256, never `none` or HS*), `iss` exact, `aud` our client id, `exp`, and the nonce (O3, O6).

use std::time::Duration;

use anyhow::bail;
use dashboard_shared::Error;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm},
};
use oauth2::PkceCodeChallenge;
use serde::Deserialize;

use super::{
    Person,
    cache::Fetched,
    client::{self, Endpoints},
    providers::Provider,
    transport::{Http, allowed_url},
};

/// How long discovery documents and key sets are kept.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// An ID token signed by a key we do not know refetches the keys, at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp`/`nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// One OpenID issuer.
#[derive(Debug)]
pub struct Oidc {
    /// The issuer, exactly as its discovery document and ID tokens name it.
    pub issuer: String,
    /// The `iss` values its ID tokens may carry (Google: with and without `https://`).
    pub accepted_issuers: Vec<String>,
    discovery: Fetched<Discovery>,
    keys: Fetched<Vec<Jwk>>,
}

/// What we use of the discovery document.
#[derive(Debug, Deserialize)]
pub struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    /// RFC 9207: the issuer names itself in every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// The ID token claims we read.
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    azp: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: bool,
    name: Option<String>,
}

impl Oidc {
    /// An issuer; nothing is fetched until the first sign-in.
    pub fn new(issuer: String, accepted_issuers: Vec<String>) -> Self {
        Self {
            issuer,
            accepted_issuers,
            discovery: Fetched::new(),
            keys: Fetched::new(),
        }
    }

    /// The discovery document (cached).
    pub async fn discovery(&self, http: &Http) -> Result<std::sync::Arc<Discovery>, Error> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let fetch = || async {
            let document: Discovery = http.get_json(&url, None, "application/json").await?;
            if document.issuer != self.issuer {
                bail!("discovery at {url} names issuer `{}`", document.issuer);
            }
            for endpoint in [
                &document.authorization_endpoint,
                &document.token_endpoint,
                &document.jwks_uri,
            ] {
                if !allowed_url(endpoint) {
                    bail!("discovery at {url} names a non-https endpoint `{endpoint}`");
                }
            }
            Ok(document)
        };
        self.discovery
            .get(CACHE_TTL, fetch)
            .await
            .map_err(unavailable)
    }

    /// The URL that sends the browser to the issuer.
    pub async fn authorize_url(
        &self,
        http: &Http,
        provider: &Provider,
        redirect: &str,
        state: &str,
        challenge: PkceCodeChallenge,
        nonce: &str,
    ) -> Result<String, Error> {
        let discovery = self.discovery(http).await?;
        let at = endpoints(&discovery);
        let scopes = ["openid", "email", "profile"];
        Ok(client::authorize_url(
            provider,
            &at,
            redirect,
            state,
            challenge,
            &scopes,
            &[("nonce", nonce)],
        )?)
    }

    /// Exchanges the code and verifies the ID token; the person it names.
    pub async fn sign_in(
        &self,
        http: &Http,
        provider: &Provider,
        redirect: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Person, Error> {
        let discovery = self.discovery(http).await?;
        let grant = client::exchange(
            http,
            provider,
            &endpoints(&discovery),
            redirect,
            code,
            verifier,
        )
        .await?;
        let id_token = grant
            .id_token
            .ok_or_else(|| Error::BadRequest(format!("{} sent no ID token", provider.label)))?;
        let claims = self.verify(http, &discovery, provider, &id_token).await?;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(invalid_token(provider, "its nonce is not this sign-in's"));
        }
        if claims
            .azp
            .as_ref()
            .is_some_and(|azp| *azp != provider.client_id)
        {
            return Err(invalid_token(provider, "it was issued to another client"));
        }
        Ok(Person {
            subject: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified,
            name: claims.name,
        })
    }

    async fn verify(
        &self,
        http: &Http,
        discovery: &Discovery,
        provider: &Provider,
        id_token: &str,
    ) -> Result<IdClaims, Error> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| invalid_token(provider, "it is not a JWT"))?;
        let kid = header
            .kid
            .ok_or_else(|| invalid_token(provider, "it names no key"))?;
        let jwk = match self.key(http, discovery, &kid, CACHE_TTL).await? {
            Some(jwk) => jwk,
            None => self
                .key(http, discovery, &kid, REFETCH_AFTER)
                .await?
                .ok_or_else(|| invalid_token(provider, "it is signed by an unknown key"))?,
        };
        let algorithm = pinned_algorithm(&jwk)
            .ok_or_else(|| invalid_token(provider, "its key is neither RS256 nor ES256"))?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| invalid_token(provider, "its key is malformed"))?;
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&self.accepted_issuers);
        validation.set_audience(&[&provider.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|error| invalid_token(provider, refusal(error.kind())))
    }

    /// The issuer's key `kid` from a key set at most `max_age` old.
    async fn key(
        &self,
        http: &Http,
        discovery: &Discovery,
        kid: &str,
        max_age: Duration,
    ) -> Result<Option<Jwk>, Error> {
        let fetch = || async {
            #[derive(Deserialize)]
            struct KeySet {
                keys: Vec<serde_json::Value>,
            }
            let set: KeySet = http
                .get_json(&discovery.jwks_uri, None, "application/json")
                .await?;
            // Keys we cannot read (other types, encryption keys) are skipped, not fatal.
            Ok(set
                .keys
                .into_iter()
                .filter_map(|key| serde_json::from_value(key).ok())
                .collect())
        };
        let keys = self.keys.get(max_age, fetch).await.map_err(unavailable)?;
        Ok(keys
            .iter()
            .find(|jwk| jwk.common.key_id.as_deref() == Some(kid))
            .cloned())
    }
}

fn endpoints(discovery: &Discovery) -> Endpoints<'_> {
    Endpoints {
        authorize: &discovery.authorization_endpoint,
        token: &discovery.token_endpoint,
        secret_in_body: false,
    }
}

/// The one algorithm a key may verify: what it says (`alg`), else what its type implies. Only
/// RS256 and ES256; signature keys only.
fn pinned_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
    {
        return None;
    }
    match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256) | None, AlgorithmParameters::RSA(_)) => Some(Algorithm::RS256),
        (Some(KeyAlgorithm::ES256) | None, AlgorithmParameters::EllipticCurve(ec))
            if ec.curve == EllipticCurve::P256 =>
        {
            Some(Algorithm::ES256)
        }
        _ => None,
    }
}

/// Why `jsonwebtoken` refused an ID token, in words.
fn refusal(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "its signature does not verify",
        ErrorKind::InvalidAlgorithm => "it is not signed with its key's algorithm",
        ErrorKind::ExpiredSignature => "it has expired",
        ErrorKind::ImmatureSignature => "it is not yet valid",
        ErrorKind::InvalidIssuer => "it comes from another issuer",
        ErrorKind::InvalidAudience => "it was issued to another client",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "it is malformed",
    }
}

fn invalid_token(provider: &Provider, why: &str) -> Error {
    Error::BadRequest(format!("{}'s ID token is not valid: {why}", provider.label))
}

fn unavailable(error: anyhow::Error) -> Error {
    Error::Unavailable(error.context("the sign-in provider could not be reached"))
}

/// `email_verified` as a boolean, or as the string `"true"` some issuers send.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(deserializer)? {
        Some(Flag::Bool(flag)) => flag,
        Some(Flag::Text(text)) => text == "true",
        None => false,
    })
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
