//! GitHub (OAuth 2.0, not OpenID Connect; O7): the authorization URL with PKCE, the code exchange
//! (client credentials in the body), then the person from the REST API — `/user` for the numeric id
//! that keys the identity, `/user/emails` for the primary address and whether GitHub verified it.

use dashboard_shared::Error;
use oauth2::PkceCodeChallenge;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::{
    Person,
    client::{self, Endpoints},
    providers::Provider,
    transport::Http,
};

/// The media type of GitHub's REST API.
const GITHUB_JSON: &str = "application/vnd.github+json";

/// Where GitHub is (github.com, or a GitHub Enterprise Server).
#[derive(Debug)]
pub struct GitHub {
    /// The web origin with `/login/oauth/…`, like `https://github.com`.
    pub oauth_url: String,
    /// The REST API, like `https://api.github.com`.
    pub api_url: String,
}

/// `GET /user`: what we read.
#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

impl GitHub {
    fn endpoints(&self) -> (String, String) {
        (
            format!("{}/login/oauth/authorize", self.oauth_url),
            format!("{}/login/oauth/access_token", self.oauth_url),
        )
    }

    /// The URL that sends the browser to GitHub.
    pub fn authorize_url(
        &self,
        provider: &Provider,
        redirect: &str,
        state: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String, Error> {
        let (authorize, token) = self.endpoints();
        let at = endpoints(&authorize, &token);
        let scopes = ["read:user", "user:email"];
        Ok(client::authorize_url(
            provider,
            &at,
            redirect,
            state,
            challenge,
            &scopes,
            &[],
        )?)
    }

    /// Exchanges the code for the person's access token (for a GitHub App's user authorization, a
    /// user access token: what it reaches is asked of the API afterwards).
    pub async fn access_token(
        &self,
        http: &Http,
        provider: &Provider,
        redirect: &str,
        code: &str,
        verifier: &str,
    ) -> Result<SecretString, Error> {
        let (authorize, token) = self.endpoints();
        let at = endpoints(&authorize, &token);
        let grant = client::exchange(http, provider, &at, redirect, code, verifier).await?;
        Ok(grant.access_token)
    }

    /// Exchanges the code, then reads who signed in.
    pub async fn sign_in(
        &self,
        http: &Http,
        provider: &Provider,
        redirect: &str,
        code: &str,
        verifier: &str,
    ) -> Result<Person, Error> {
        let access_token = self
            .access_token(http, provider, redirect, code, verifier)
            .await?;
        let bearer = Some(access_token.expose_secret());
        let user: User = http
            .get_json(&format!("{}/user", self.api_url), bearer, GITHUB_JSON)
            .await
            .map_err(unavailable)?;
        let emails: Vec<Email> = http
            .get_json(
                &format!("{}/user/emails", self.api_url),
                bearer,
                GITHUB_JSON,
            )
            .await
            .map_err(unavailable)?;
        let primary = emails.into_iter().find(|e| e.primary);
        Ok(Person {
            subject: user.id.to_string(),
            email_verified: primary.as_ref().is_some_and(|e| e.verified),
            email: primary.map(|e| e.email),
            name: user.name.or(Some(user.login)),
        })
    }
}

fn endpoints<'a>(authorize: &'a str, token: &'a str) -> Endpoints<'a> {
    Endpoints {
        authorize,
        token,
        secret_in_body: true,
    }
}

fn unavailable(error: anyhow::Error) -> Error {
    Error::Unavailable(error.context("GitHub's API could not be reached"))
}
