//! ID token verification against forged tokens: the issuer's key (ES256 here) is the only key and
//! its algorithm the only algorithm; `iss`, `aud` and `exp` are checked.

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;
use crate::auth::oauth::providers::Kind;

const ISSUER: &str = "https://sso.example.com";

fn jwk(json: Value) -> Jwk {
    serde_json::from_value(json).unwrap()
}

/// A P-256 key pair: its PKCS#8 document and its public JWK under `kid`.
fn ec_key(kid: &str) -> (Vec<u8>, Jwk) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let public = jwk(
        json!({ "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]) }),
    );
    (pkcs8.as_ref().to_vec(), public)
}

struct Issuer {
    provider: Provider,
    discovery: Discovery,
    http: Http,
    pkcs8: Vec<u8>,
    public: Jwk,
}

impl Issuer {
    async fn new() -> Self {
        let (pkcs8, public) = ec_key("k1");
        let oidc = Oidc::new(ISSUER.into(), vec![ISSUER.into()]);
        let keys = vec![public.clone()];
        oidc.keys
            .get(CACHE_TTL, || async { Ok(keys) })
            .await
            .unwrap();
        let provider = Provider {
            name: "oidc".into(),
            label: "SSO".into(),
            client_id: "our-client".into(),
            client_secret: SecretString::from("secret"),
            kind: Kind::Oidc(oidc),
        };
        let discovery = Discovery {
            issuer: ISSUER.into(),
            authorization_endpoint: format!("{ISSUER}/auth"),
            token_endpoint: format!("{ISSUER}/token"),
            jwks_uri: format!("{ISSUER}/jwks"),
            authorization_response_iss_parameter_supported: true,
        };
        let http = Http::new().unwrap();
        Self {
            provider,
            discovery,
            http,
            pkcs8,
            public,
        }
    }

    async fn verify(&self, token: &str) -> Result<IdClaims, Error> {
        let Kind::Oidc(oidc) = &self.provider.kind else {
            unreachable!()
        };
        oidc.verify(&self.http, &self.discovery, &self.provider, token)
            .await
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
    }
}

fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": ISSUER, "aud": "our-client", "sub": "u1", "iat": now, "exp": now + 300,
            "nonce": "n1", "email": "u1@example.test", "email_verified": "true" })
}

fn refused(result: Result<IdClaims, Error>, why: &str) {
    match result {
        Err(Error::BadRequest(detail)) => assert!(detail.contains(why), "{detail}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn an_id_token_signed_by_the_issuers_key_verifies() {
    let issuer = Issuer::new().await;
    let verified = issuer.verify(&issuer.sign(&claims())).await.unwrap();
    assert_eq!(
        (verified.sub.as_str(), verified.nonce.as_deref()),
        ("u1", Some("n1"))
    );
    assert!(verified.email_verified);
}

#[tokio::test]
async fn a_wrong_audience_issuer_or_expiry_is_refused() {
    let issuer = Issuer::new().await;
    let mut other_client = claims();
    other_client["aud"] = "someone-else".into();
    refused(
        issuer.verify(&issuer.sign(&other_client)).await,
        "another client",
    );
    let mut other_issuer = claims();
    other_issuer["iss"] = "https://evil.example".into();
    refused(
        issuer.verify(&issuer.sign(&other_issuer)).await,
        "another issuer",
    );
    let mut expired = claims();
    expired["exp"] = (chrono::Utc::now().timestamp() - 120).into();
    refused(issuer.verify(&issuer.sign(&expired)).await, "expired");
}

#[tokio::test]
async fn alg_none_hs256_with_the_public_key_and_foreign_keys_are_refused() {
    let issuer = Issuer::new().await;
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    let none = format!(
        "{}.{body}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#)
    );
    assert!(issuer.verify(&none).await.is_err());

    let AlgorithmParameters::EllipticCurve(ec) = &issuer.public.algorithm else {
        unreachable!()
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let secret = EncodingKey::from_secret(ec.x.as_bytes());
    let confused = jsonwebtoken::encode(&header, &claims(), &secret).unwrap();
    refused(issuer.verify(&confused).await, "algorithm");

    let (foreign, _) = ec_key("k1");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    let forged =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_ec_der(&foreign)).unwrap();
    refused(issuer.verify(&forged).await, "signature");

    header.kid = Some("unknown".into());
    let unknown =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_ec_der(&foreign)).unwrap();
    refused(issuer.verify(&unknown).await, "unknown key");
}

#[test]
fn the_algorithm_is_pinned_by_the_key_never_by_the_token() {
    let rsa = json!({"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"});
    assert_eq!(pinned_algorithm(&jwk(rsa.clone())), Some(Algorithm::RS256));
    let mut hs = rsa.clone();
    hs["alg"] = "HS256".into();
    assert_eq!(pinned_algorithm(&jwk(hs)), None);
    let mut enc = rsa;
    enc["use"] = "enc".into();
    assert_eq!(pinned_algorithm(&jwk(enc)), None);
    let oct = json!({"kty": "oct", "kid": "s", "k": "c2VjcmV0"});
    assert_eq!(pinned_algorithm(&jwk(oct)), None);
}
