//! `git http-backend` behind a loopback HTTP server that demands one user name and password by Basic
//! authentication, as GitHub and other hosts do: a real network transport for fetch tests.

use std::{
    path::{Path as FsPath, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{StatusCode, header},
    response::Response,
};
use base64::Engine as _;
use tokio::io::AsyncWriteExt as _;

/// The served repositories (under `root`) and what requests came.
pub struct GitHttp {
    /// The directory of the served bare repositories.
    pub root: PathBuf,
    /// The user name it accepts.
    pub username: String,
    /// The password or token it accepts.
    pub password: String,
    /// Requests without the right credentials.
    pub unauthorized: AtomicUsize,
    /// Requests with them.
    pub authorized: AtomicUsize,
}

impl GitHttp {
    /// Serves `root` to `username`:`password`.
    pub fn new(root: &FsPath, username: &str, password: &str) -> Arc<Self> {
        Arc::new(Self {
            root: root.to_owned(),
            username: username.into(),
            password: password.into(),
            unauthorized: AtomicUsize::new(0),
            authorized: AtomicUsize::new(0),
        })
    }

    /// Publishes the repository `work` as the bare repository `name` (`acme/widgets.git`) under
    /// `root`; returns its path, which `work` may push to.
    pub fn publish(root: &FsPath, work: &FsPath, name: &str) -> PathBuf {
        let bare = root.join(name);
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        super::git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        bare
    }

    /// Serves on a loopback port; returns its base URL.
    pub async fn serve(self: &Arc<Self>) -> String {
        let app = axum::Router::new()
            .fallback(git_http)
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    /// Requests (unauthorized, authorized) so far.
    pub fn requests(&self) -> (usize, usize) {
        (
            self.unauthorized.load(Ordering::SeqCst),
            self.authorized.load(Ordering::SeqCst),
        )
    }
}

/// `git http-backend` as a CGI program, behind Basic authentication.
pub async fn git_http(State(server): State<Arc<GitHttp>>, request: Request) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", server.username, server.password))
    );
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == expected.as_bytes());
    if !authorized {
        server.unauthorized.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Basic realm=\"GitHub\"")
            .body(Body::empty())
            .unwrap();
    }
    server.authorized.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let header_value = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &server.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("CONTENT_TYPE", header_value(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env(
            "HTTP_CONTENT_ENCODING",
            header_value(header::CONTENT_ENCODING),
        )
        .env(
            "GIT_PROTOCOL",
            header_value(header::HeaderName::from_static("git-protocol")),
        )
        .env("REMOTE_USER", &server.username)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&body).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| (at, 2))
        })
        .expect("CGI headers");
    let head = String::from_utf8_lossy(&output.stdout[..split.0]).into_owned();
    let mut response = Response::builder();
    for line in head.lines() {
        let (name, value) = line.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value.trim()[..3].parse().unwrap();
            response = response.status(code);
        } else {
            response = response.header(name.trim(), value.trim());
        }
    }
    response
        .body(Body::from(output.stdout[split.0 + split.1..].to_vec()))
        .unwrap()
}
