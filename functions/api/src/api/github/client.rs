//! The GitHub REST calls of connecting repositories, each over [`GitHubSettings::http`] (no
//! redirects, timeouts, bounded answers) with GitHub's media type and API version: the
//! installations a person's user access token reaches, the repositories an installation reaches
//! (as the App), and a repository, its webhook's creation and deletion (with the token a person
//! gave). A refusal becomes a problem in words: GitHub's status and `message`, never a token.

use dashboard_shared::{
    Error,
    github::{TokenScope, next_link},
};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::settings::{AppSettings, GitHubSettings};
use crate::auth::oauth::transport::Answer;

/// GitHub's API version header value (as `shared::github`).
const API_VERSION: &str = "2022-11-28";
/// Pages of 100 read at most from a list (1,000 installations or repositories).
const MAX_PAGES: usize = 10;
/// The events our repository webhooks deliver.
pub const HOOK_EVENTS: [&str; 3] = ["push", "issues", "pull_request"];

/// A repository as GitHub's REST API describes it, the fields we keep.
#[derive(Debug, Clone, Deserialize)]
pub struct GitHubRepository {
    /// GitHub's numeric id (stable across renames).
    pub id: i64,
    /// `owner/name`.
    pub full_name: String,
    /// The HTTPS clone URL.
    pub clone_url: String,
    /// The default branch.
    pub default_branch: Option<String>,
    /// Whether it is private.
    #[serde(default)]
    pub private: bool,
    /// Whether GitHub archived it.
    #[serde(default)]
    pub archived: bool,
}

/// An installation of the App, as `GET /user/installations` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct UserInstallation {
    /// The installation's id.
    pub id: i64,
    /// The account it is installed on.
    pub account: Option<InstallationAccount>,
}

/// The account of an installation.
#[derive(Debug, Clone, Deserialize)]
pub struct InstallationAccount {
    /// Its login (a user's or an organization's).
    pub login: String,
}

#[derive(Deserialize)]
struct Installations {
    #[serde(default)]
    installations: Vec<UserInstallation>,
}

#[derive(Deserialize)]
struct Repositories {
    #[serde(default)]
    repositories: Vec<GitHubRepository>,
}

#[derive(Deserialize)]
struct Hook {
    id: i64,
}

/// The installation `installation_id` if the person whose user access token this is can reach it
/// (`GET /user/installations`, which lists the App's installations the person may access).
pub async fn user_installation(
    github: &GitHubSettings,
    user_token: &SecretString,
    installation_id: i64,
) -> Result<Option<UserInstallation>, Error> {
    let first = format!("{}/user/installations?per_page=100", github.api_url);
    let mut found = None;
    pages::<Installations>(github, &first, user_token.expose_secret(), |page| {
        found = page
            .installations
            .into_iter()
            .find(|i| i.id == installation_id);
        found.is_none()
    })
    .await?;
    Ok(found)
}

/// Every repository installation `installation_id` reaches (`GET /installation/repositories`, as
/// the App with a token limited to metadata), at most 1,000.
pub async fn installation_repositories(
    github: &GitHubSettings,
    app: &AppSettings,
    installation_id: i64,
) -> Result<Vec<GitHubRepository>, Error> {
    let token = app
        .app
        .installation_token(installation_id, &TokenScope::metadata())
        .await
        .map_err(|error| {
            Error::BadGateway(format!(
                "GitHub gave no token for installation {installation_id} (is the App still installed \
                 there?): {}",
                printable(&format!("{error:#}"))
            ))
        })?;
    let first = format!("{}/installation/repositories?per_page=100", github.api_url);
    let mut all = Vec::new();
    pages::<Repositories>(github, &first, token.expose_secret(), |page| {
        all.extend(page.repositories);
        true
    })
    .await?;
    Ok(all)
}

/// The repository `full_name` as the person's `token` sees it. GitHub refusing the token, or not
/// showing the repository to it, is the caller's to fix (422 naming the field).
pub async fn repository(
    github: &GitHubSettings,
    token: &SecretString,
    full_name: &str,
) -> Result<GitHubRepository, Error> {
    let url = format!("{}/repos/{full_name}", github.api_url);
    let answer = send(github, Method::GET, &url, token.expose_secret(), None).await?;
    match answer.status {
        StatusCode::OK => decode(&answer, &url),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::Unprocessable(format!(
            "token: GitHub refused it ({})",
            words(&answer)
        ))),
        StatusCode::NOT_FOUND | StatusCode::MOVED_PERMANENTLY => {
            Err(Error::Unprocessable(format!(
                "full_name: GitHub shows no repository {full_name} to this token ({})",
                words(&answer)
            )))
        }
        _ => Err(unexpected(&answer, &url)),
    }
}

/// Creates the repository's webhook (`POST /repos/{owner}/{repo}/hooks`: our URL, JSON, the events
/// of [`HOOK_EVENTS`], `secret`); its id.
pub async fn create_hook(
    github: &GitHubSettings,
    token: &SecretString,
    full_name: &str,
    secret: &SecretString,
) -> Result<i64, Error> {
    let url = format!("{}/repos/{full_name}/hooks", github.api_url);
    let body = json!({
        "name": "web",
        "active": true,
        "events": HOOK_EVENTS,
        "config": {
            "url": github.webhook_url,
            "content_type": "json",
            "insecure_ssl": "0",
            "secret": secret.expose_secret(),
        },
    });
    let answer = send(
        github,
        Method::POST,
        &url,
        token.expose_secret(),
        Some(&body),
    )
    .await?;
    match answer.status {
        StatusCode::CREATED => decode::<Hook>(&answer, &url).map(|hook| hook.id),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
            Err(Error::Unprocessable(format!(
                "token: may not create webhooks on {full_name}: it needs admin rights on the \
                 repository, or the Webhooks permission with write access ({})",
                words(&answer)
            )))
        }
        StatusCode::UNPROCESSABLE_ENTITY => Err(Error::Conflict(format!(
            "GitHub refused to create the webhook on {full_name} ({})",
            words(&answer)
        ))),
        _ => Err(unexpected(&answer, &url)),
    }
}

/// What deleting a webhook came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookDeletion {
    /// GitHub deleted it.
    Deleted,
    /// GitHub no longer has it.
    Gone,
}

/// Deletes the repository's webhook `hook_id` (`DELETE /repos/{owner}/{repo}/hooks/{hook_id}`).
pub async fn delete_hook(
    github: &GitHubSettings,
    token: &SecretString,
    full_name: &str,
    hook_id: i64,
) -> Result<HookDeletion, Error> {
    let url = format!("{}/repos/{full_name}/hooks/{hook_id}", github.api_url);
    let answer = send(github, Method::DELETE, &url, token.expose_secret(), None).await?;
    match answer.status {
        StatusCode::NO_CONTENT => Ok(HookDeletion::Deleted),
        StatusCode::NOT_FOUND => Ok(HookDeletion::Gone),
        _ => Err(unexpected(&answer, &url)),
    }
}

/// Reads the pages of a list from `first` on, handing each to `each` until it returns false, the
/// last page is read, or [`MAX_PAGES`]. A `next` link elsewhere than the API is not followed (our
/// token would go with it).
async fn pages<T: DeserializeOwned>(
    github: &GitHubSettings,
    first: &str,
    bearer: &str,
    mut each: impl FnMut(T) -> bool,
) -> Result<(), Error> {
    let mut next = Some(first.to_owned());
    for _ in 0..MAX_PAGES {
        let Some(url) = next.take() else {
            return Ok(());
        };
        let answer = send(github, Method::GET, &url, bearer, None).await?;
        if answer.status != StatusCode::OK {
            return Err(unexpected(&answer, &url));
        }
        next = next_link(&answer.headers)
            .filter(|link| link.starts_with(&format!("{}/", github.api_url)));
        if !each(decode(&answer, &url)?) {
            return Ok(());
        }
    }
    Ok(())
}

/// One request with GitHub's headers and `bearer`; only failing to reach GitHub is an error here.
async fn send(
    github: &GitHubSettings,
    method: Method,
    url: &str,
    bearer: &str,
    body: Option<&Value>,
) -> Result<Answer, Error> {
    let mut request = github
        .http
        .request(method.clone(), url)
        .bearer_auth(bearer)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("x-github-api-version", API_VERSION);
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    github.http.fetch(request).await.map_err(|error| {
        Error::BadGateway(format!(
            "GitHub could not be reached ({method} {}): {}",
            path(url),
            printable(&format!("{error:#}"))
        ))
    })
}

fn decode<T: DeserializeOwned>(answer: &Answer, url: &str) -> Result<T, Error> {
    serde_json::from_slice(&answer.body).map_err(|_| {
        Error::BadGateway(format!(
            "GitHub answered {} with something unexpected",
            path(url)
        ))
    })
}

/// An answer no caller expects: a 502 with GitHub's status and words.
fn unexpected(answer: &Answer, url: &str) -> Error {
    Error::BadGateway(format!(
        "GitHub answered {} with {}",
        path(url),
        words(answer)
    ))
}

/// GitHub's refusal in words: the status, its `message` and the first validation error's.
pub fn words(answer: &Answer) -> String {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let mut words = answer.status.to_string();
    if let Some(message) = body["message"].as_str() {
        words.push_str(": ");
        words.push_str(message);
    }
    if let Some(detail) = body["errors"][0]["message"].as_str() {
        words.push_str(" (");
        words.push_str(detail);
        words.push(')');
    }
    printable(&words)
}

/// The path of `url` (what we name in a message; queries and hosts stay out).
fn path(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(|_| "GitHub".into(), |u| u.path().to_owned())
}

/// Text from elsewhere as we repeat it: one line, printable, at most 300 characters.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect()
}
