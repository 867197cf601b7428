//! `dashboard up --demo` on a throwaway data directory, as the browser tests use it: its address,
//! the demo owner's password, accounts and API tokens made with the CLI, and a small JSON client
//! for the API (the "other client" whose changes a page must show live).

use std::{
    io::{BufRead as _, BufReader},
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::Value;

/// A running `dashboard up --demo`, stopped on drop.
pub struct Dashboard {
    child: Child,
    data: tempfile::TempDir,
    /// `http://127.0.0.1:port`.
    pub origin: String,
    http: reqwest::Client,
}

impl Dashboard {
    /// Starts `up --demo --port 0` on a fresh data directory and waits until it serves.
    pub fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        // Run as root, PostgreSQL runs as `postgres` and must reach its directory.
        std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let mut child = command(data.path())
            .args(["up", "--demo", "--port", "0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (lines, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(plain(&line)).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let origin = loop {
            let Ok(line) = receive.recv_timeout(Duration::from_secs(300)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`up --demo` did not come up:\n{}", seen.join("\n"));
            };
            if let Some(rest) = line.split("Dashboard is up: ").nth(1) {
                break rest.trim_end_matches("/healthz").trim().to_owned();
            }
            seen.push(line);
        };
        // Keep draining the pipe so that `up` never blocks on a full one.
        std::thread::spawn(move || while receive.recv().is_ok() {});
        Self {
            child,
            data,
            origin,
            http: reqwest::Client::new(),
        }
    }

    /// Runs a `dashboard` command against this data directory; its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let output = command(self.data.path()).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "dashboard {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// The demo owner's password (`up` keeps it in the data directory).
    pub fn owner_password(&self) -> String {
        std::fs::read_to_string(self.data.path().join("demo-owner-password"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Makes an account with a password and a role in `org`.
    pub fn add_user(&self, email: &str, password: &str, org: &str, role: &str) {
        let file = self.data.path().join("new-password");
        std::fs::write(&file, password).unwrap();
        let file = file.to_str().unwrap();
        self.run(&[
            "user",
            "add",
            "--email",
            email,
            "--password-file",
            file,
            "--tenant",
            org,
            "--role",
            role,
        ]);
    }

    /// An API token of the demo owner in `org`, as an admin.
    pub fn owner_token(&self, org: &str) -> String {
        self.run(&[
            "token",
            "create",
            "--tenant",
            org,
            "--email",
            "demo@dashboard.local",
            "--role",
            "admin",
            "--expires",
            "1",
            "--name",
            "browser tests",
        ])
    }

    /// `GET` an API path with a bearer token; its JSON.
    pub async fn get(&self, token: &str, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.origin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `POST` JSON to an API path with a bearer token; its status and JSON.
    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.origin))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        // SIGTERM stops `up` and the PostgreSQL cluster it started (a kill would leave that running).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn command(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dashboard"));
    command
        .env("DASHBOARD_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        // The flow confirms a suggestion the shared words make; reading meaning too, the linker
        // would link that commit outright.
        .env_remove("LINKER_MODEL_DIR")
        .env_remove("RUST_LOG")
        .env("LOG_FORMAT", "text");
    command
}

/// `line` without terminal colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
