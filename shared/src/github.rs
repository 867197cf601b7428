//! A small client for the GitHub REST API calls the functions make as the GitHub App: the App's JWT
//! (RS256, ten minutes), installation access tokens (one hour, scoped to one repository and the
//! permissions the caller needs), and the webhook deliveries API that
//! the reconciler reads (GitHub never redelivers a failed delivery by itself). `GITHUB_API_URL`
//! points it elsewhere (GitHub Enterprise Server; a fake in tests).

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::config::{ConfigError, Env};

/// GitHub's API version header value.
const API_VERSION: &str = "2022-11-28";
/// The largest answer read from GitHub's API (a compare page of 100 commits is far smaller).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The App's identity and an HTTP client.
#[derive(Clone)]
pub struct GitHubApp {
    app_id: u64,
    key: EncodingKey,
    api: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("app_id", &self.app_id)
            .field("api", &self.api)
            .finish()
    }
}

/// One attempt to deliver a webhook, as `GET …/hook/deliveries` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct HookDelivery {
    /// The attempt's id (what a redelivery request names).
    pub id: i64,
    /// The event's GUID, the `X-GitHub-Delivery` header; shared by redeliveries of the same event.
    pub guid: String,
    /// When GitHub sent it.
    pub delivered_at: DateTime<Utc>,
    /// Whether this attempt was a redelivery.
    #[serde(default)]
    pub redelivery: bool,
    /// `OK` when our answer was 2xx.
    pub status: String,
    /// Our HTTP status (0 when there was no answer).
    #[serde(default)]
    pub status_code: i32,
    /// The event name.
    pub event: String,
}

impl HookDelivery {
    /// Whether we acknowledged this attempt.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

/// A commit as the compare API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiCommit {
    /// The commit's SHA.
    pub sha: String,
    /// Its message and people.
    pub commit: ApiCommitDetail,
}

/// The `commit` object of an [`ApiCommit`].
#[derive(Debug, Clone, Deserialize)]
pub struct ApiCommitDetail {
    /// The full message.
    pub message: String,
    /// Who wrote it, and when.
    pub author: Option<ApiPerson>,
    /// Who committed it, and when.
    pub committer: Option<ApiPerson>,
}

/// A git identity with a time.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiPerson {
    /// The name.
    pub name: Option<String>,
    /// The email.
    pub email: Option<String>,
    /// The time.
    pub date: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Comparison {
    #[serde(default)]
    commits: Vec<ApiCommit>,
    #[serde(default)]
    total_commits: usize,
}

/// The compare API pages by 100 commits; a push beyond this many is cut (and logged).
const MAX_COMPARE_PAGES: usize = 100;

#[derive(Serialize)]
struct AppClaims {
    iat: u64,
    exp: u64,
    iss: String,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
}

/// A repository permission an installation token may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Fetching the repository and comparing commits.
    Contents,
    /// Reading issues.
    Issues,
    /// Reading pull requests.
    PullRequests,
    /// Listing and redelivering a repository hook's deliveries.
    RepositoryHooks,
    /// The repositories' names, ids and settings (every token has it).
    Metadata,
}

/// What an installation token may reach: the body of `POST /app/installations/{id}/access_tokens`
/// (`repository_ids` and `permissions`, as GitHub documents it; no ids: every repository of the
/// installation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenScope {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repository_ids: Vec<i64>,
    permissions: BTreeMap<Permission, &'static str>,
}

impl TokenScope {
    /// Read access to `permissions` on the one repository with GitHub id `repository_id`.
    pub fn read(repository_id: i64, permissions: &[Permission]) -> Self {
        Self {
            repository_ids: vec![repository_id],
            permissions: permissions.iter().map(|p| (*p, "read")).collect(),
        }
    }

    /// Access to one repository's webhooks, which redelivering a delivery needs (`write`: GitHub has
    /// no read-only way to ask for a redelivery).
    pub fn repository_hooks(repository_id: i64) -> Self {
        Self {
            repository_ids: vec![repository_id],
            permissions: BTreeMap::from([(Permission::RepositoryHooks, "write")]),
        }
    }

    /// The names and ids of every repository the installation can reach, nothing more (what
    /// listing them needs).
    pub fn metadata() -> Self {
        Self {
            repository_ids: Vec::new(),
            permissions: BTreeMap::from([(Permission::Metadata, "read")]),
        }
    }
}

impl GitHubApp {
    /// The App from `GITHUB_APP_ID` and `GITHUB_APP_PRIVATE_KEY` (PEM), or `None` when either is
    /// unset. `GITHUB_API_URL` defaults to `https://api.github.com`.
    pub fn from_lookup(env: &Env) -> Result<Option<Self>, ConfigError> {
        if env.get("GITHUB_APP_ID").is_none() || env.get("GITHUB_APP_PRIVATE_KEY").is_none() {
            return Ok(None);
        }
        let app_id = env.parse_or("GITHUB_APP_ID", 0_u64)?;
        let pem = env.secret("GITHUB_APP_PRIVATE_KEY")?;
        let api = env
            .get("GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".into());
        Self::new(app_id, &pem, &api).map(Some)
    }

    /// An App with an RSA private key in PEM.
    pub fn new(
        app_id: u64,
        private_key_pem: &SecretString,
        api: &str,
    ) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes()).map_err(
            |_| ConfigError::Invalid {
                name: "GITHUB_APP_PRIVATE_KEY",
                reason: "not an RSA private key in PEM".into(),
            },
        )?;
        let http = reqwest::Client::builder()
            .user_agent("dashboard")
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConfigError::Invalid {
                name: "GITHUB_API_URL",
                reason: e.to_string(),
            })?;
        Ok(Self {
            app_id,
            key,
            api: api.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The same App making its requests through `http` (a caller's own policy: redirects, timeouts).
    pub fn with_client(self, http: reqwest::Client) -> Self {
        Self { http, ..self }
    }

    /// The App's JWT: issued a minute ago (clock drift), valid for nine more minutes.
    pub fn app_jwt(&self) -> anyhow::Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = AppClaims {
            iat: now - 60,
            exp: now + 540,
            iss: self.app_id.to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &self.key,
        )?)
    }

    /// An installation access token (valid for an hour) limited to `scope`: one repository and the
    /// permissions its caller needs, never the whole installation with every permission it holds.
    pub async fn installation_token(
        &self,
        installation_id: i64,
        scope: &TokenScope,
    ) -> anyhow::Result<SecretString> {
        let url = format!(
            "{}/app/installations/{installation_id}/access_tokens",
            self.api
        );
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(scope)?);
        let token: AccessToken = self.send(request, &self.app_jwt()?).await?;
        Ok(SecretString::from(token.token))
    }

    /// The App hook's delivery attempts since `since`, newest first.
    pub async fn app_hook_deliveries(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HookDelivery>> {
        let jwt = self.app_jwt()?;
        self.deliveries(&format!("{}/app/hook/deliveries", self.api), &jwt, since)
            .await
    }

    /// Asks GitHub to deliver an App hook delivery again.
    pub async fn redeliver_app_hook_delivery(&self, delivery: i64) -> anyhow::Result<()> {
        let url = format!("{}/app/hook/deliveries/{delivery}/attempts", self.api);
        self.send::<serde_json::Value>(self.http.post(url), &self.app_jwt()?)
            .await
            .map(|_| ())
    }

    /// A repository hook's delivery attempts since `since`, newest first.
    pub async fn repository_hook_deliveries(
        &self,
        token: &SecretString,
        full_name: &str,
        hook_id: i64,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HookDelivery>> {
        let url = format!("{}/repos/{full_name}/hooks/{hook_id}/deliveries", self.api);
        self.deliveries(&url, token.expose_secret(), since).await
    }

    /// Asks GitHub to deliver a repository hook delivery again.
    pub async fn redeliver_repository_hook_delivery(
        &self,
        token: &SecretString,
        full_name: &str,
        hook_id: i64,
        delivery: i64,
    ) -> anyhow::Result<()> {
        let url = format!(
            "{}/repos/{full_name}/hooks/{hook_id}/deliveries/{delivery}/attempts",
            self.api
        );
        self.send::<serde_json::Value>(self.http.post(url), token.expose_secret())
            .await
            .map(|_| ())
    }

    /// The commits of `base...head` (a push's `before...after`), oldest first, paginated.
    pub async fn compare(
        &self,
        token: &SecretString,
        full_name: &str,
        base: &str,
        head: &str,
    ) -> anyhow::Result<Vec<ApiCommit>> {
        let mut commits = Vec::new();
        for page in 1..=MAX_COMPARE_PAGES {
            let url = format!(
                "{}/repos/{full_name}/compare/{base}...{head}?per_page=100&page={page}",
                self.api
            );
            let comparison: Comparison =
                self.send(self.http.get(url), token.expose_secret()).await?;
            let last = comparison.commits.len() < 100;
            commits.extend(comparison.commits);
            if last || commits.len() >= comparison.total_commits {
                return Ok(commits);
            }
        }
        tracing::warn!(
            repository = full_name,
            commits = commits.len(),
            "compare cut at its page limit"
        );
        Ok(commits)
    }

    /// Pages through a deliveries list (cursor pagination via the `Link` header) back to `since`.
    async fn deliveries(
        &self,
        first: &str,
        bearer: &str,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<HookDelivery>> {
        let mut all = Vec::new();
        let mut next = Some(format!("{first}?per_page=100"));
        while let Some(url) = next.take() {
            let response = self.request(self.http.get(&url), bearer).await?;
            next = next_link(response.headers());
            let page: Vec<HookDelivery> = decode(response).await?;
            let reached_the_window = page.last().is_none_or(|d| d.delivered_at < since);
            all.extend(page.into_iter().filter(|d| d.delivered_at >= since));
            if reached_the_window {
                break;
            }
        }
        Ok(all)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        bearer: &str,
    ) -> anyhow::Result<T> {
        decode(self.request(request, bearer).await?).await
    }

    async fn request(
        &self,
        request: reqwest::RequestBuilder,
        bearer: &str,
    ) -> anyhow::Result<reqwest::Response> {
        let response = request
            .bearer_auth(bearer)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION)
            .send()
            .await
            .context("GitHub API request failed")?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            let url = response.url().path().to_owned();
            let body = read_bounded(response).await.unwrap_or_default();
            anyhow::bail!(
                "GitHub API {url} answered {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )
        }
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let bytes = read_bounded(response).await?;
    if bytes.is_empty() {
        return serde_json::from_slice(b"null").context("empty GitHub API response");
    }
    serde_json::from_slice(&bytes).context("unexpected GitHub API response")
}

/// The body of `response`, refused beyond [`MAX_RESPONSE_BYTES`].
async fn read_bounded(mut response: reqwest::Response) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .context("reading a GitHub API response failed")?
    {
        anyhow::ensure!(
            bytes.len() + chunk.len() <= MAX_RESPONSE_BYTES,
            "a GitHub API response is larger than {MAX_RESPONSE_BYTES} bytes"
        );
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::LINK,
            r#"<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel="next""#.parse().unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967")
        );
        headers.insert(
            reqwest::header::LINK,
            r#"<https://x/prev>; rel="prev""#.parse().unwrap(),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn a_metadata_scope_names_no_repository_and_a_read_scope_one() {
        assert_eq!(
            serde_json::to_value(TokenScope::metadata()).unwrap(),
            serde_json::json!({ "permissions": { "metadata": "read" } })
        );
        assert_eq!(
            serde_json::to_value(TokenScope::read(7, &[Permission::Contents])).unwrap(),
            serde_json::json!({ "repository_ids": [7], "permissions": { "contents": "read" } })
        );
    }

    #[test]
    fn a_bad_private_key_is_named() {
        let error =
            GitHubApp::new(1, &SecretString::from("not a key"), "http://localhost").unwrap_err();
        assert!(
            error.to_string().contains("GITHUB_APP_PRIVATE_KEY"),
            "{error}"
        );
    }
}
