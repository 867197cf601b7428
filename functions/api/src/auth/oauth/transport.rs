//! The one HTTP client that talks to sign-in providers: it follows no redirects (O5: a provider
//! answering with a redirect cannot send us elsewhere), gives up after a timeout, and reads at most
//! [`MAX_BODY`] of any answer. It serves the `oauth2` crate's requests ([`Http::send`]) and our own
//! JSON reads (discovery, keys, GitHub's API).

use std::{future::Future, pin::Pin, time::Duration};

use anyhow::{Context as _, bail};
use reqwest::Url;
use serde::de::DeserializeOwned;

/// The largest answer we read from a provider (discovery documents and key sets are a few KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// How long a whole request to a provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client (cheap to clone).
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// A client with the policy above; nothing is contacted until the first request.
    pub fn new() -> anyhow::Result<Self> {
        Self::named("dashboard-sign-in")
    }

    /// A client with the policy above that sends `user_agent` (GitHub's API requires one).
    pub fn named(user_agent: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(user_agent)
            .build()
            .context("failed to build the providers' HTTP client")?;
        Ok(Self { client })
    }

    /// Sends a request the `oauth2` crate prepared (its token exchange).
    pub async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, std::io::Error> {
        let (parts, body) = request.into_parts();
        let url = Url::parse(&parts.uri.to_string()).map_err(std::io::Error::other)?;
        let response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(std::io::Error::other)?;
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let body = read_bounded(response)
            .await
            .map_err(std::io::Error::other)?;
        answer.body(body).map_err(std::io::Error::other)
    }

    /// GETs `url` as JSON, with `bearer` as the `Authorization` when given. Anything but a 200 is an
    /// error naming the status (never the body, which could echo a token).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
        accept: &str,
    ) -> anyhow::Result<T> {
        let mut request = self.client.get(url).header(http::header::ACCEPT, accept);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("GET {url} failed"))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            bail!("GET {url} answered {status}");
        }
        let body = read_bounded(response).await?;
        serde_json::from_slice(&body).with_context(|| format!("GET {url}: unexpected JSON"))
    }
}

/// An answer read in full (and bounded): any status, its headers, its body.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: reqwest::StatusCode,
    /// The headers (`Link` for pages).
    pub headers: reqwest::header::HeaderMap,
    /// The body, at most [`MAX_BODY`].
    pub body: Vec<u8>,
}

impl Http {
    /// A request of `method` to `url` on this client, to send with [`Http::fetch`].
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends `request` and reads its answer whatever the status; only failing to talk (or an answer
    /// over [`MAX_BODY`]) is an error.
    pub async fn fetch(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let response = request.send().await.context("the request failed")?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_bounded(response).await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The underlying client (for a library that sends its own requests under this policy).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// The `oauth2` crate's requests go through [`Http::send`].
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = std::io::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// The body of `response`, refused when longer than [`MAX_BODY`].
async fn read_bounded(mut response: reqwest::Response) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.context("failed to read an answer")? {
        if body.len() + chunk.len() > MAX_BODY {
            bail!("the provider's answer is larger than {MAX_BODY} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether we may talk to `url`: https, or plain http on loopback (local use and tests only).
pub fn allowed_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|url| {
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        (url.scheme() == "https" || url.scheme() == "http" && loopback)
            && url.username().is_empty()
            && url.password().is_none()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use axum::{Router, response::Redirect, routing::get};

    use super::*;

    /// A loopback server: `/moved` redirects to `/target` (which records a visit), `/huge` answers
    /// more than [`MAX_BODY`].
    async fn server() -> (String, Arc<AtomicBool>) {
        let visited = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&visited);
        let router = Router::new()
            .route("/moved", get(|| async { Redirect::temporary("/target") }))
            .route(
                "/target",
                get(move || async move {
                    seen.store(true, Ordering::SeqCst);
                    "{}"
                }),
            )
            .route(
                "/huge",
                get(|| async { format!("\"{}\"", "x".repeat(MAX_BODY)) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (base, visited)
    }

    #[tokio::test]
    async fn redirects_are_not_followed_and_answers_are_bounded() {
        let (base, visited) = server().await;
        let http = Http::new().unwrap();
        let moved = http
            .get_json::<serde_json::Value>(&format!("{base}/moved"), None, "*/*")
            .await;
        assert!(moved.unwrap_err().to_string().contains("307"));
        assert!(!visited.load(Ordering::SeqCst));
        let huge = http
            .get_json::<String>(&format!("{base}/huge"), None, "*/*")
            .await;
        assert!(format!("{:#}", huge.unwrap_err()).contains("larger than"));
    }

    #[test]
    fn only_https_or_loopback_http_is_allowed() {
        assert!(allowed_url("https://accounts.google.com"));
        assert!(allowed_url("http://127.0.0.1:9090/jwks"));
        assert!(!allowed_url("http://idp.example.com"));
        assert!(!allowed_url("https://user:pw@idp.example.com"));
        assert!(!allowed_url("file:///etc/passwd"));
        assert!(!allowed_url("not a url"));
    }
}
