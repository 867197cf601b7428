//! Drives a function's real binary as Cloud Run and Lambda would: it must refuse a role that could
//! bypass row-level security, serve its probes on `$PORT`, answer unknown paths with problem+json,
//! stop cleanly on SIGTERM, and serve the same router under the Lambda runtime API.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use super::{admin_url, lambda, runtime_url};

/// Runs every check against the binary at `path` (use `env!("CARGO_BIN_EXE_<name>")`).
pub async fn check_function_binary(path: &str, admin: &PgPool) {
    check_function_binary_with(path, admin, &[]).await;
}

/// Like [`check_function_binary`], for a binary that needs more settings than `DATABASE_URL`.
pub async fn check_function_binary_with(path: &str, admin: &PgPool, env: &[(&str, &str)]) {
    refuses_a_role_that_bypasses_rls(path, admin, env).await;
    serves_probes_and_stops_on_sigterm(path, admin, env).await;
    serves_under_the_lambda_runtime(path, admin, env).await;
}

async fn refuses_a_role_that_bypasses_rls(path: &str, admin: &PgPool, env: &[(&str, &str)]) {
    let output = Command::new(path)
        .envs(env.iter().copied())
        .env("DATABASE_URL", admin_url(admin))
        .env("PORT", free_port().to_string())
        .env("RUST_BACKTRACE", "0")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .expect("failed to run the binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "started with a superuser DATABASE_URL"
    );
    assert!(
        stderr.contains("could bypass row-level security"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("postgres://"),
        "the error shows the database URL: {stderr}"
    );
}

async fn serves_probes_and_stops_on_sigterm(path: &str, admin: &PgPool, env: &[(&str, &str)]) {
    let port = free_port();
    let mut child = Command::new(path)
        .envs(env.iter().copied())
        .env("DATABASE_URL", runtime_url(admin))
        .env("PORT", port.to_string())
        .env("K_SERVICE", "dashboard-test") // as on Cloud Run: Cloud Logging JSON on stdout
        .env_remove("LOG_FORMAT")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("failed to start the binary");
    let (status, _, body) = wait_for_http(port, "/healthz", &mut child).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _, body) = get(port, "/readyz").await.expect("/readyz did not answer");
    assert_eq!((status, body.as_str()), (200, "ready"));
    let (status, head, _) = get(port, "/no-such-route")
        .await
        .expect("no answer for an unknown path");
    assert_eq!(status, 404);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let trace = "105445aa7843bc8bf206b12000100000";
    let context = format!("{trace}/1;o=1");
    let traced = get_with(port, "/healthz", &[("X-Cloud-Trace-Context", &context)]).await;
    assert_eq!(traced.map(|answer| answer.0), Some(200));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit =
        wait_for_exit(&mut child, Duration::from_secs(15)).expect("no exit within 15 s of SIGTERM");
    assert!(exit.success(), "exit after SIGTERM: {exit}");

    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let structured = |l: &serde_json::Value| l["severity"].is_string() && l["time"].is_string();
    assert!(lines.iter().all(structured), "{stdout}");
    assert!(
        lines.iter().any(|l| l["message"] == "listening"),
        "{stdout}"
    );
    let traced_line = |l: &&serde_json::Value| l["span"]["trace_id"] == trace;
    let request_line = lines
        .iter()
        .find(traced_line)
        .expect("no log line carries the trace id");
    assert_eq!(
        request_line["span"]["http.route"], "/healthz",
        "{request_line}"
    );
}

async fn serves_under_the_lambda_runtime(path: &str, admin: &PgPool, env: &[(&str, &str)]) {
    let runtime = lambda::FakeRuntime::start(lambda::api_gateway_v2_get("/healthz")).await;
    let mut child = Command::new(path)
        .envs(env.iter().copied())
        .env("DATABASE_URL", runtime_url(admin))
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "dashboard-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start the binary");
    let response = tokio::time::timeout(Duration::from_secs(20), runtime.response()).await;
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let Ok(response) = response else {
        panic!(
            "the function never answered the invocation; it printed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["body"], "ok", "{response}");
}

/// An unused TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `path` until it answers, failing if the process exits or 20 s pass.
pub async fn wait_for_http(port: u16, path: &str, child: &mut Child) -> (u16, String, String) {
    let started = Instant::now();
    loop {
        if let Some(answer) = get(port, path).await {
            return answer;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the binary exited before serving: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no answer on port {port} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plain HTTP/1.1 GET on loopback: status, head and body, or `None` if nothing listens yet.
pub async fn get(port: u16, path: &str) -> Option<(u16, String, String)> {
    get_with(port, path, &[]).await
}

/// [`get`] with extra request headers.
pub async fn get_with(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, head.to_owned(), body.to_owned()))
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}
