//! The api function's own settings, read once at start: where the deployment is reached
//! (`PUBLIC_URL`, the issuer of our tokens and the base of every link we send), the token signing
//! keys, the key that seals TOTP secrets, password hashing (`PASSWORD_HASH_CONCURRENCY`), mail
//! (`SMTP_URL`, `MAIL_FROM`) and the per-address limit of the auth routes
//! (`AUTH_RATE_LIMIT_PER_MINUTE`, `TRUST_FORWARDED_FOR`). The sign-in providers read their own
//! variables (`auth::oauth::providers`), and so do the GitHub connections (`api::github::settings`).
//! Deployed, git remotes are connected under the hosted remote policy; only the local runner chooses
//! the local one.

use std::{path::PathBuf, sync::Arc};

use dashboard_shared::{
    config::{ConfigError, Env},
    crypto::SecretBox,
    remote::RemotePolicy,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::api::github::GitHubSettings;
use crate::auth::{
    keys::SigningKeys, mail::Mailer, oauth::providers::Providers, password::Passwords,
    throttle::AddressLimiter,
};

/// The audience (`aud`) of our access tokens.
pub const AUDIENCE: &str = "dashboard-api";

/// Settings of the api function.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// `PUBLIC_URL`: the deployment's origin as browsers reach it (`https://dashboard.example.com`),
    /// without a trailing slash. Our tokens' issuer, the base of emailed links and of the sign-in
    /// providers' redirect URIs.
    pub public_url: String,
    /// `JWT_SIGNING_KEYS`: PEM, one or more PKCS#8 Ed25519 private keys, the newest first; the first
    /// signs, all verify and are published at `/.well-known/jwks.json`.
    pub keys: Arc<SigningKeys>,
    /// `SECRETS_ENCRYPTION_KEY`: seals TOTP secrets at rest (T4).
    pub secrets: SecretBox,
    /// Hashes and verifies passwords, a few at a time (`PASSWORD_HASH_CONCURRENCY`).
    pub passwords: Passwords,
    /// Sends verification and reset links: SMTP (`SMTP_URL`, `MAIL_FROM`), else files in
    /// [`Defaults::mail_dir`].
    pub mailer: Mailer,
    /// Requests a minute per client address on `/api/v2/auth/*` (`AUTH_RATE_LIMIT_PER_MINUTE`).
    pub limiter: AddressLimiter,
    /// The sign-in providers whose variables are set (`auth::oauth::providers`).
    pub providers: Providers,
    /// Where GitHub is, our repository webhooks' URL and the GitHub App of the install flow
    /// (`api::github::settings`).
    pub github: GitHubSettings,
    /// Which git remotes may be connected: deployed, [`RemotePolicy::Hosted`] (public https and
    /// ssh hosts); `dashboard up` on one machine, [`RemotePolicy::Local`] (also local paths).
    pub remotes: RemotePolicy,
}

/// What a variable falls back to when unset. Deployed, nothing does; `dashboard` (one machine)
/// supplies its own: the local URL, keys kept in its data directory, mail written to a folder.
#[derive(Default)]
pub struct Defaults {
    /// For `PUBLIC_URL`.
    pub public_url: Option<String>,
    /// For `JWT_SIGNING_KEYS`.
    pub signing_keys: Option<SecretString>,
    /// For `SECRETS_ENCRYPTION_KEY`.
    pub secrets: Option<SecretBox>,
    /// Where mail goes when `SMTP_URL` is unset (deployed: `SMTP_URL` is required).
    pub mail_dir: Option<PathBuf>,
    /// The remote policy (deployed: [`RemotePolicy::Hosted`]).
    pub remotes: Option<RemotePolicy>,
}

impl ApiConfig {
    /// Reads the variables above; each missing or malformed one is named.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        Self::from_lookup_with(env, Defaults::default())
    }

    /// Like [`ApiConfig::from_lookup`], with fallbacks for unset variables.
    pub fn from_lookup_with(env: &Env, defaults: Defaults) -> Result<Self, ConfigError> {
        let public_url = env
            .get("PUBLIC_URL")
            .or(defaults.public_url)
            .ok_or(ConfigError::Missing { name: "PUBLIC_URL" })?;
        let public_url = parse_public_url(&public_url)?;
        let pem = match defaults.signing_keys {
            Some(pem) if env.get("JWT_SIGNING_KEYS").is_none() => pem,
            _ => env.secret("JWT_SIGNING_KEYS")?,
        };
        let keys =
            SigningKeys::from_pem(pem.expose_secret(), &public_url, AUDIENCE).map_err(|error| {
                ConfigError::Invalid {
                    name: "JWT_SIGNING_KEYS",
                    reason: error.to_string(),
                }
            })?;
        let secrets =
            SecretBox::from_lookup(env)?
                .or(defaults.secrets)
                .ok_or(ConfigError::Missing {
                    name: "SECRETS_ENCRYPTION_KEY",
                })?;
        let passwords =
            Passwords::from_env(env).map_err(config_error("PASSWORD_HASH_CONCURRENCY"))?;
        let mailer = match (&defaults.mail_dir, env.get("SMTP_URL")) {
            (None, None) => return Err(ConfigError::Missing { name: "SMTP_URL" }),
            (dir, _) => Mailer::from_env(env, dir.as_deref().unwrap_or(std::path::Path::new(".")))
                .map_err(config_error("SMTP_URL/MAIL_FROM"))?,
        };
        let limiter =
            AddressLimiter::from_env(env).map_err(config_error("AUTH_RATE_LIMIT_PER_MINUTE"))?;
        let github = GitHubSettings::from_lookup(env, &public_url)?;
        Ok(Self {
            public_url,
            keys: Arc::new(keys),
            secrets,
            passwords,
            mailer,
            limiter,
            providers: Providers::from_lookup(env)?,
            github,
            remotes: defaults.remotes.unwrap_or(RemotePolicy::Hosted),
        })
    }
}

impl ApiConfig {
    /// Settings with fresh keys and no provider, for `public_url` (tests, benchmarks).
    pub fn generated(public_url: &str) -> Self {
        let defaults = Defaults {
            public_url: Some(public_url.to_owned()),
            signing_keys: Some(SecretString::from(SigningKeys::generate_pem())),
            secrets: Some(SecretBox::from_key(
                &dashboard_shared::crypto::random_bytes::<32>(),
            )),
            mail_dir: Some(std::env::temp_dir().join("dashboard-mail")),
            remotes: None,
        };
        Self::from_lookup_with(&Env::from_pairs(&[]), defaults)
            .expect("generated settings are valid")
    }
}

/// A building block's setup error as a [`ConfigError`]: its own when it is one, else `name` invalid.
fn config_error(name: &'static str) -> impl Fn(anyhow::Error) -> ConfigError {
    move |error| match error.downcast::<ConfigError>() {
        Ok(error) => error,
        Err(error) => ConfigError::Invalid {
            name,
            reason: format!("{error:#}"),
        },
    }
}

/// An origin: `https://host[:port]`, or `http://` on loopback (local use); no path, no slash.
fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "PUBLIC_URL",
        reason: format!("`{raw}`: {reason}"),
    };
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| invalid("not a URL"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if !(url.scheme() == "https" || url.scheme() == "http" && loopback) {
        return Err(invalid("use https (plain http only on localhost)"));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(invalid(
            "give only the origin, like https://dashboard.example.com",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_an_https_origin_or_loopback_http() {
        assert_eq!(
            parse_public_url("https://dash.example.com/").unwrap(),
            "https://dash.example.com"
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(parse_public_url("http://dash.example.com").is_err());
        assert!(parse_public_url("https://dash.example.com/app").is_err());
        assert!(parse_public_url("dash.example.com").is_err());
    }
}
