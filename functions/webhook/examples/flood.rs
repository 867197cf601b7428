//! Measurement (run by `scripts/bench-flood`): signed deliveries' answers and latency over a real
//! loopback socket, without and then with a flood of 200 junk requests per second: unknown hook ids
//! (a new one each time), a known hook with a bad signature, the App's route with a bad signature,
//! and, in a last phase, bodies that never finish arriving. The webhook runs in this process with
//! its production defaults (a pool of 5, [`Limits::default`]). Needs `DATABASE_URL` of a role that
//! may create databases; works in a database of its own and drops it. Stops by itself; sends
//! nothing beyond 127.0.0.1.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use dashboard_shared::{
    Db,
    crypto::{SecretBox, webhook_secret_context},
    db::MIGRATOR,
    jobs::Transport,
    testing,
};
use dashboard_webhook::{AppState, Limits, WebhookConfig, router, signature::sign};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    sync::{Semaphore, watch},
};

const APP_SECRET: &str = "flood-app-secret";
const HOOK_SECRET: &str = "flood-hook-secret";
const HOOK_ID: i64 = 555;
const PUSH: &str =
    include_str!("../tests/fixtures/github-webhooks/push/with-new-branch.payload.json");
/// Signed deliveries per phase, one every 50 ms.
const SIGNED: usize = 200;
const SIGNED_EVERY: Duration = Duration::from_millis(50);
/// Junk requests per second during a flood, and at most this many open at once.
const JUNK_PER_SECOND: u64 = 200;
const JUNK_OPEN: usize = 800;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    testing::with_scratch_database(|admin| async move { run(&admin).await }).await
}

async fn run(admin: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(admin).await?;
    let tenant = testing::create_tenant(admin, "flood").await;
    testing::create_installation(admin, tenant, 1).await;
    let repository: uuid::Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
         values ($1, 'github', 186853002, 1, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 'master')
         returning id",
    )
    .bind(tenant)
    .fetch_one(admin)
    .await?;
    let secret_box = SecretBox::from_key(&[9; 32]);
    let sealed = secret_box.seal(
        HOOK_SECRET.as_bytes(),
        &webhook_secret_context(tenant.as_uuid(), repository),
    );
    sqlx::query("update app.repositories set webhook_hook_id = $2, webhook_secret_encrypted = $3 where id = $1")
        .bind(repository)
        .bind(HOOK_ID)
        .bind(sealed)
        .execute(admin)
        .await?;
    let db = Db::connect_lazy_with(testing::runtime_options(admin), 5);
    let config = WebhookConfig {
        app_secrets: vec![SecretString::from(APP_SECRET)],
        app_id: None,
        secret_box: Some(secret_box),
    };
    let state = AppState::new(db.clone(), Arc::new(config), Transport::Postgres(db));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });
    println!(
        "{SIGNED} signed push deliveries, one every {} ms, per phase; junk at {JUNK_PER_SECOND}/s; limits {:?}",
        SIGNED_EVERY.as_millis(),
        Limits::default()
    );
    for flood in [Flood::None, Flood::Junk, Flood::SlowBodies] {
        phase(address, flood).await?;
    }
    server.abort();
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flood {
    None,
    Junk,
    SlowBodies,
}

async fn phase(address: SocketAddr, flood: Flood) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let junk = (flood != Flood::None).then(|| tokio::spawn(junk(address, flood, stopped)));
    let mut signed = Vec::with_capacity(SIGNED);
    let mut every = tokio::time::interval(SIGNED_EVERY);
    for _ in 0..SIGNED {
        every.tick().await;
        signed.push(tokio::spawn(async move {
            let started = Instant::now();
            let status = post(address, &request(0, APP_SECRET, true), None).await;
            (status, started.elapsed())
        }));
    }
    let mut answers = Vec::with_capacity(SIGNED);
    for delivery in signed {
        answers.push(delivery.await?);
    }
    stop.send_replace(true);
    let junk = match junk {
        Some(junk) => junk.await?,
        None => Vec::new(),
    };
    report(flood, &answers, &junk);
    Ok(())
}

/// Sends junk at [`JUNK_PER_SECOND`] until stopped; returns every answer's status (0: none).
async fn junk(address: SocketAddr, flood: Flood, stopped: watch::Receiver<bool>) -> Vec<u16> {
    let open = Arc::new(Semaphore::new(JUNK_OPEN));
    let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / JUNK_PER_SECOND));
    let mut sent = Vec::new();
    for i in 0_u64.. {
        every.tick().await;
        if *stopped.borrow() {
            break;
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            continue;
        };
        let head = match (flood, i % 3) {
            (Flood::SlowBodies, _) => request(0, APP_SECRET, false),
            (_, 0) => request(1_000_000 + i as i64, HOOK_SECRET, true), // a new unknown hook
            (_, 1) => request(HOOK_ID, "guessed", true),
            _ => request(0, "guessed", true),
        };
        let hold = (flood == Flood::SlowBodies).then(|| stopped.clone());
        sent.push(tokio::spawn(async move {
            let status = post(address, &head, hold).await;
            drop(permit);
            status
        }));
    }
    let mut statuses = Vec::with_capacity(sent.len());
    for request in sent {
        statuses.push(request.await.unwrap_or(0));
    }
    statuses
}

/// A push delivery as raw HTTP/1.1, from hook `hook` (0: the App), signed with `secret`; with
/// `whole` false only the headers and the first bytes of the body.
fn request(hook: i64, secret: &str, whole: bool) -> Vec<u8> {
    let id = uuid::Uuid::new_v4();
    let sha = format!("{:040x}", id.as_u128());
    let body = PUSH.replace("6113728f27ae82c7b1a177c8d03f9e96e0adf246", &sha);
    let route = if hook == 0 {
        "x-github-hook-installation-target-type: integration\r\n".to_owned()
    } else {
        format!(
            "x-github-hook-id: {hook}\r\nx-github-hook-installation-target-type: repository\r\n"
        )
    };
    let mut bytes = format!(
        "POST /webhooks/github HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\
         content-type: application/json\r\nx-github-event: push\r\nx-github-delivery: {id}\r\n\
         x-hub-signature-256: {}\r\n{route}content-length: {}\r\n\r\n",
        sign(secret, body.as_bytes()),
        body.len()
    )
    .into_bytes();
    let sent = if whole { body.len() } else { 100 };
    bytes.extend_from_slice(&body.as_bytes()[..sent]);
    bytes
}

/// Sends `request` and returns the answer's status (0: none). With `hold`, keeps the connection
/// open (the body unfinished) until the answer comes or the phase ends.
async fn post(address: SocketAddr, request: &[u8], hold: Option<watch::Receiver<bool>>) -> u16 {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return 0;
    };
    if stream.write_all(request).await.is_err() {
        return 0;
    }
    let mut head = [0_u8; 12];
    let read = stream.read_exact(&mut head);
    let answered = match hold {
        Some(mut stopped) => tokio::select! {
            read = read => read.is_ok(),
            _ = stopped.wait_for(|stop| *stop) => false,
        },
        None => read.await.is_ok(),
    };
    if !answered {
        return 0;
    }
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn report(flood: Flood, answers: &[(u16, Duration)], junk: &[u16]) {
    let accepted = answers.iter().filter(|(s, _)| *s == 202).count();
    let mut latencies: Vec<Duration> = answers.iter().map(|(_, l)| *l).collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let mut others: Vec<u16> = answers
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s != 202)
        .collect();
    others.sort_unstable();
    let mut junk_statuses = std::collections::BTreeMap::new();
    for status in junk {
        *junk_statuses.entry(*status).or_insert(0_usize) += 1;
    }
    println!(
        "{flood:?}: signed 202 {accepted}/{} ({:.1}%), latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
         other answers {others:?}; junk sent {} (answers by status, 0 = none: {junk_statuses:?})",
        answers.len(),
        100.0 * accepted as f64 / answers.len() as f64,
        at(0.50).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        junk.len(),
    );
}
