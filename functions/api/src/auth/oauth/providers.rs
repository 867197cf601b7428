//! The sign-in providers of this deployment, from the environment; each is offered only when its
//! variables are set:
//! - any OpenID Connect issuer by discovery: `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`,
//!   optional `OIDC_NAME` (its path name, default `oidc`) and `OIDC_LABEL` (what the sign-in page
//!   shows, default "Single sign-on");
//! - Google, the same OpenID Connect code with Google's issuer: `GOOGLE_CLIENT_ID`,
//!   `GOOGLE_CLIENT_SECRET`;
//! - GitHub (OAuth 2.0): `GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`, optional `GITHUB_OAUTH_URL`
//!   (default `https://github.com`) and `GITHUB_API_URL` (default `https://api.github.com`) for
//!   GitHub Enterprise Server and tests.

use std::sync::Arc;

use dashboard_shared::config::{ConfigError, Env};
use secrecy::SecretString;

use super::{
    github::GitHub,
    oidc::Oidc,
    transport::{Http, allowed_url},
};

/// Google's issuer; its ID tokens may also carry the bare host (O6).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Every configured provider and the HTTP client they share.
#[derive(Clone, Debug)]
pub struct Providers {
    list: Vec<Arc<Provider>>,
    /// The client for every request to a provider.
    pub http: Http,
}

/// One provider.
#[derive(Debug)]
pub struct Provider {
    /// Its name in our paths (`/api/v2/auth/{name}/start`) and in identities.
    pub name: String,
    /// What the sign-in page shows.
    pub label: String,
    /// Our client id there.
    pub client_id: String,
    /// Our client secret there.
    pub client_secret: SecretString,
    /// How it signs people in.
    pub kind: Kind,
}

/// The two protocols.
#[derive(Debug)]
pub enum Kind {
    /// OpenID Connect (a configured issuer, Google).
    Oidc(Oidc),
    /// GitHub's OAuth 2.0 and REST API.
    GitHub(GitHub),
}

impl Providers {
    /// No provider (password sign-in only).
    pub fn none() -> Self {
        Self::with(Vec::new())
    }

    fn with(list: Vec<Arc<Provider>>) -> Self {
        Self {
            list,
            http: Http::new().expect("an HTTP client with rustls builds"),
        }
    }

    /// The providers whose variables are set; a half-configured one is an error naming the
    /// missing variable. Nothing is fetched here (discovery waits for the first sign-in).
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        let mut list = Vec::new();
        if let Some(issuer) = env.get("OIDC_ISSUER") {
            let issuer = checked_url("OIDC_ISSUER", issuer.trim_end_matches('/'))?;
            let name = env.get("OIDC_NAME").unwrap_or_else(|| "oidc".into());
            if !valid_name(&name) || matches!(name.as_str(), "google" | "github") {
                return Err(ConfigError::Invalid {
                    name: "OIDC_NAME",
                    reason: format!("`{name}`: use 1-32 of a-z, 0-9 and -, not google or github"),
                });
            }
            list.push(Provider {
                label: env
                    .get("OIDC_LABEL")
                    .unwrap_or_else(|| "Single sign-on".into()),
                client_id: required(env, "OIDC_CLIENT_ID")?,
                client_secret: env.secret("OIDC_CLIENT_SECRET")?,
                kind: Kind::Oidc(Oidc::new(issuer.clone(), vec![issuer])),
                name,
            });
        }
        if let Some(client_id) = env.get("GOOGLE_CLIENT_ID") {
            let accepted = vec![GOOGLE_ISSUER.to_owned(), "accounts.google.com".to_owned()];
            list.push(Provider {
                name: "google".into(),
                label: "Google".into(),
                client_id,
                client_secret: env.secret("GOOGLE_CLIENT_SECRET")?,
                kind: Kind::Oidc(Oidc::new(GOOGLE_ISSUER.into(), accepted)),
            });
        }
        if let Some(client_id) = env.get("GITHUB_CLIENT_ID") {
            let oauth = env
                .get("GITHUB_OAUTH_URL")
                .unwrap_or_else(|| "https://github.com".into());
            let api = env
                .get("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into());
            list.push(Provider {
                name: "github".into(),
                label: "GitHub".into(),
                client_id,
                client_secret: env.secret("GITHUB_CLIENT_SECRET")?,
                kind: Kind::GitHub(GitHub {
                    oauth_url: checked_url("GITHUB_OAUTH_URL", oauth.trim_end_matches('/'))?,
                    api_url: checked_url("GITHUB_API_URL", api.trim_end_matches('/'))?,
                }),
            });
        }
        Ok(Self::with(list.into_iter().map(Arc::new).collect()))
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Provider>> {
        self.list.iter().find(|p| p.name == name).cloned()
    }

    /// Every provider, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.list.iter()
    }
}

impl Provider {
    /// The redirect URI registered with the provider: `{PUBLIC_URL}/api/v2/auth/{name}/callback`.
    pub fn redirect_uri(&self, public_url: &str) -> String {
        format!("{public_url}/api/v2/auth/{}/callback", self.name)
    }
}

fn required(env: &Env, name: &'static str) -> Result<String, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing { name })
}

fn checked_url(name: &'static str, url: &str) -> Result<String, ConfigError> {
    if allowed_url(url) {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("`{url}`: use an https URL (plain http only on localhost)"),
        })
    }
}

/// A provider name as identities store it.
pub(crate) fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=32).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_offered_only_when_configured() {
        let none = Providers::from_lookup(&Env::from_pairs(&[])).unwrap();
        assert_eq!(none.iter().count(), 0);
        let env = Env::from_pairs(&[
            ("OIDC_ISSUER", "https://sso.example.com/"),
            ("OIDC_NAME", "acme"),
            ("OIDC_CLIENT_ID", "id"),
            ("OIDC_CLIENT_SECRET", "secret"),
            ("GITHUB_CLIENT_ID", "gh"),
            ("GITHUB_CLIENT_SECRET", "gh-secret"),
        ]);
        let providers = Providers::from_lookup(&env).unwrap();
        let names: Vec<_> = providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["acme", "github"]);
        assert_eq!(
            providers
                .get("acme")
                .unwrap()
                .redirect_uri("https://d.example.com"),
            "https://d.example.com/api/v2/auth/acme/callback"
        );
    }

    #[test]
    fn a_half_configured_or_insecure_provider_is_refused() {
        let missing = Env::from_pairs(&[("GOOGLE_CLIENT_ID", "id")]);
        assert!(Providers::from_lookup(&missing).is_err());
        let http = Env::from_pairs(&[
            ("OIDC_ISSUER", "http://sso.example.com"),
            ("OIDC_CLIENT_ID", "id"),
            ("OIDC_CLIENT_SECRET", "secret"),
        ]);
        assert!(Providers::from_lookup(&http).is_err());
        let bad_name = Env::from_pairs(&[
            ("OIDC_ISSUER", "https://sso.example.com"),
            ("OIDC_NAME", "Acme SSO"),
            ("OIDC_CLIENT_ID", "id"),
            ("OIDC_CLIENT_SECRET", "secret"),
        ]);
        assert!(Providers::from_lookup(&bad_name).is_err());
    }
}
