//! The GitHub settings of the api function, from the environment:
//! - where GitHub is: `GITHUB_OAUTH_URL` (its web origin, default `https://github.com`, shared with
//!   sign-in) and `GITHUB_API_URL` (default `https://api.github.com`, shared with the App);
//! - where GitHub delivers the repository webhooks we create: `GITHUB_WEBHOOK_URL`, default
//!   `{PUBLIC_URL}/webhooks/github` (the webhook function's route);
//! - the GitHub App whose install flow connects repositories, offered only when `GITHUB_APP_SLUG`
//!   is set, which then requires `GITHUB_APP_ID`, `GITHUB_APP_PRIVATE_KEY` (installation tokens),
//!   `GITHUB_APP_CLIENT_ID` and `GITHUB_APP_CLIENT_SECRET` (the App's user authorization).
//!
//! Every request to GitHub goes through one [`Http`] client: no redirects followed, timeouts,
//! bounded answers.

use std::sync::Arc;

use dashboard_shared::{
    config::{ConfigError, Env},
    github::GitHubApp,
};

use crate::auth::oauth::{
    github::GitHub,
    providers::{Kind, Provider},
    transport::{Http, allowed_url},
};

/// Where GitHub is and how we reach it.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// GitHub's web origin (`https://github.com`): the App's install page, its authorization.
    pub web_url: String,
    /// The REST API (`https://api.github.com`).
    pub api_url: String,
    /// The URL our repository webhooks deliver to.
    pub webhook_url: String,
    /// The client of every request to GitHub.
    pub http: Http,
    /// The App, when the install flow is configured.
    pub app: Option<Arc<AppSettings>>,
}

/// The GitHub App of the install flow.
#[derive(Debug)]
pub struct AppSettings {
    /// Its slug: `https://github.com/apps/{slug}`.
    pub slug: String,
    /// The App itself (its JWT, installation tokens), over [`GitHubSettings::http`].
    pub app: GitHubApp,
    /// Its user authorization (client id and secret, GitHub's OAuth endpoints).
    pub authorization: Provider,
}

impl GitHubSettings {
    /// The settings from the variables above; `public_url` gives the webhook URL's default.
    pub fn from_lookup(env: &Env, public_url: &str) -> Result<Self, ConfigError> {
        let web_url = url(env, "GITHUB_OAUTH_URL", "https://github.com")?;
        let api_url = url(env, "GITHUB_API_URL", "https://api.github.com")?;
        let webhook_url = url(
            env,
            "GITHUB_WEBHOOK_URL",
            &format!("{public_url}/webhooks/github"),
        )?;
        let http = Http::named("dashboard").map_err(|error| ConfigError::Invalid {
            name: "GITHUB_API_URL",
            reason: format!("{error:#}"),
        })?;
        let app = match env.get("GITHUB_APP_SLUG") {
            None => None,
            Some(slug) => Some(Arc::new(AppSettings::from_lookup(
                env, slug, &web_url, &api_url, &http,
            )?)),
        };
        Ok(Self {
            web_url,
            api_url,
            webhook_url,
            http,
            app,
        })
    }

    /// The App, or a 409 saying that this deployment has none.
    pub fn app(&self) -> Result<&AppSettings, dashboard_shared::Error> {
        self.app.as_deref().ok_or_else(|| {
            dashboard_shared::Error::Conflict(
                "this deployment has no GitHub App: set GITHUB_APP_SLUG and the App's variables \
                 (docs/api.md, \"GitHub\")"
                    .into(),
            )
        })
    }
}

impl AppSettings {
    fn from_lookup(
        env: &Env,
        slug: String,
        web_url: &str,
        api_url: &str,
        http: &Http,
    ) -> Result<Self, ConfigError> {
        let valid = (1..=100).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(ConfigError::Invalid {
                name: "GITHUB_APP_SLUG",
                reason: format!("`{slug}`: the App's slug is lowercase letters, digits and -"),
            });
        }
        for name in ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"] {
            if env.get(name).is_none() {
                return Err(ConfigError::Missing { name });
            }
        }
        let app = GitHubApp::from_lookup(env)?
            .ok_or(ConfigError::Missing {
                name: "GITHUB_APP_ID",
            })?
            .with_client(http.client().clone());
        let client_id = env
            .get("GITHUB_APP_CLIENT_ID")
            .ok_or(ConfigError::Missing {
                name: "GITHUB_APP_CLIENT_ID",
            })?;
        let authorization = Provider {
            name: "github-app".into(),
            label: "GitHub".into(),
            client_id,
            client_secret: env.secret("GITHUB_APP_CLIENT_SECRET")?,
            kind: Kind::GitHub(GitHub {
                oauth_url: web_url.to_owned(),
                api_url: api_url.to_owned(),
            }),
        };
        Ok(Self {
            slug,
            app,
            authorization,
        })
    }

    /// The [`GitHub`] endpoints of the App's user authorization.
    pub fn github(&self) -> &GitHub {
        match &self.authorization.kind {
            Kind::GitHub(github) => github,
            Kind::Oidc(_) => unreachable!("the App's authorization is GitHub's"),
        }
    }
}

/// `name`, or `default`, as an https URL (http only on loopback) without a trailing slash.
fn url(env: &Env, name: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = env.get(name).unwrap_or_else(|| default.to_owned());
    let value = value.trim_end_matches('/');
    if allowed_url(value) {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("`{value}`: use an https URL (plain http only on localhost)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../../../../shared/tests/data/github-app-test-key.pem");

    #[test]
    fn the_install_flow_is_offered_only_with_a_complete_app() {
        let none = GitHubSettings::from_lookup(&Env::from_pairs(&[]), "https://d.example").unwrap();
        assert!(none.app.is_none());
        assert_eq!(none.webhook_url, "https://d.example/webhooks/github");
        assert_eq!(none.api_url, "https://api.github.com");

        let half = Env::from_pairs(&[("GITHUB_APP_SLUG", "dashboard"), ("GITHUB_APP_ID", "1")]);
        let error = GitHubSettings::from_lookup(&half, "https://d.example").unwrap_err();
        assert!(
            error.to_string().contains("GITHUB_APP_PRIVATE_KEY"),
            "{error}"
        );

        let full = Env::from_pairs(&[
            ("GITHUB_APP_SLUG", "dashboard-app"),
            ("GITHUB_APP_ID", "29310"),
            ("GITHUB_APP_PRIVATE_KEY", KEY),
            ("GITHUB_APP_CLIENT_ID", "Iv23liAbc"),
            ("GITHUB_APP_CLIENT_SECRET", "s"),
            (
                "GITHUB_WEBHOOK_URL",
                "https://hooks.example/webhooks/github/",
            ),
        ]);
        let settings = GitHubSettings::from_lookup(&full, "https://d.example").unwrap();
        assert_eq!(settings.app.unwrap().slug, "dashboard-app");
        assert_eq!(
            settings.webhook_url,
            "https://hooks.example/webhooks/github"
        );
    }

    #[test]
    fn a_bad_slug_or_an_insecure_url_is_named() {
        let slug = Env::from_pairs(&[("GITHUB_APP_SLUG", "Not A Slug")]);
        let error = GitHubSettings::from_lookup(&slug, "https://d.example").unwrap_err();
        assert!(error.to_string().contains("GITHUB_APP_SLUG"), "{error}");
        let http = Env::from_pairs(&[("GITHUB_WEBHOOK_URL", "http://hooks.example")]);
        let error = GitHubSettings::from_lookup(&http, "https://d.example").unwrap_err();
        assert!(error.to_string().contains("GITHUB_WEBHOOK_URL"), "{error}");
    }
}
