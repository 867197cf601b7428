//! Every fetch goes through the remote policy and its bounds, on real repositories through real
//! transports: a hosted scanner refuses local, `git://` and loopback remotes without opening a
//! connection (a loopback listener counts them); a credential is not offered to the host a redirect
//! leads to; a pack over the mirror size cap is refused and leaves nothing; a failed clone never
//! removes a directory another attempt is cloning into; a job given up stops its fetch, before it
//! begins or while the pack trickles in.

mod common;

use std::{
    convert::Infallible,
    net::TcpListener,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    body::Bytes,
    extract::{Request, State},
    http::{StatusCode, header},
    response::Response,
};
use common::{
    commit, git,
    git_http::{GitHttp, git_http},
};
use dashboard_scanner::{
    interrupt::Interrupt,
    mirror::{Credentials, Fetcher},
    remote::{FetchPolicy, RemotePolicy},
};
use dashboard_shared::testing;
use http_body_util::channel::Channel;
use secrecy::SecretString;
use sqlx::PgPool;

/// A repository with one commit in a new directory.
fn origin() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    commit(dir.path(), "README.md", "# Demo\n", "start");
    dir
}

fn sync(
    policy: &FetchPolicy,
    credentials: Option<&Credentials>,
    mirror: &Path,
    url: &str,
) -> anyhow::Result<()> {
    let interrupt = AtomicBool::new(false);
    let fetcher = Fetcher {
        policy,
        credentials,
        host_keys: None,
        interrupt: &interrupt,
    };
    fetcher.sync(mirror, url).map(|_| ())
}

#[test]
fn a_hosted_fetch_refuses_local_git_and_loopback_remotes_without_connecting() {
    let origin = origin();
    let mirrors = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let path = origin.path().to_str().unwrap().to_owned();
    let local_only = "remotes are only allowed in local mode";
    let cases = [
        (path.clone(), local_only.to_owned()),
        (format!("file://{path}"), local_only.into()),
        (format!("git://127.0.0.1:{port}/x.git"), local_only.into()),
        (
            format!("http://127.0.0.1:{port}/x.git"),
            "refusing 127.0.0.1: a loopback address".into(),
        ),
        (
            format!("ssh://git@127.0.0.1:{port}/x.git"),
            "refusing 127.0.0.1: a loopback address".into(),
        ),
        (
            format!("https://localhost:{port}/x.git"),
            "refusing localhost: a loopback address".into(),
        ),
        // Not a literal the URL parser knows: only name resolution shows it is 127.0.0.1.
        (
            format!("https://127.1:{port}/x.git"),
            "refusing 127.1: it resolves to 127.0.0.1, a loopback address".into(),
        ),
    ];
    let hosted = FetchPolicy::new(RemotePolicy::Hosted);
    for (i, (url, reason)) in cases.iter().enumerate() {
        let mirror = mirrors.path().join(format!("{i}.git"));
        let error = format!("{:#}", sync(&hosted, None, &mirror, url).unwrap_err());
        assert!(error.contains(reason.as_str()), "{url}: {error}");
        assert!(!mirror.exists(), "{url}");
    }
    assert!(
        listener.accept().is_err(),
        "no connection reached the loopback listener"
    );
    let local = FetchPolicy::new(RemotePolicy::Local);
    sync(&local, None, &mirrors.path().join("local.git"), &path).unwrap();
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_hosted_scan_job_refuses_a_local_path_with_its_reason(admin: PgPool) {
    let origin = origin();
    let mirrors = tempfile::tempdir().unwrap();
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = common::add_repository(&admin, tenant, origin.path().to_str().unwrap()).await;
    let mut ctx = common::context(&admin, mirrors.path());
    ctx.fetch = FetchPolicy::new(RemotePolicy::Hosted);
    common::scan(&ctx, tenant, repository).await;
    let error: String = sqlx::query_scalar("select last_error from app.jobs")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert!(
        error.contains("local paths and file:// remotes are only allowed in local mode"),
        "{error}"
    );
    assert!(!mirrors.path().join(tenant.to_string()).exists());
}

/// Redirects every request to `target`, keeping its path and query.
async fn redirect_to(target: String, request: Request) -> Response {
    let location = format!("{target}{}", request.uri());
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_redirect_to_another_port_gets_no_credential() {
    let served = tempfile::tempdir().unwrap();
    let work = origin();
    GitHttp::publish(served.path(), work.path(), "acme/widgets.git");
    let server = GitHttp::new(served.path(), "git", "s3cret-token");
    let other = server.serve().await;
    let app = axum::Router::new().fallback(move |request| redirect_to(other.clone(), request));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let first = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let credentials = Credentials::Basic {
        username: "git".into(),
        password: SecretString::from("s3cret-token"),
    };
    let mirrors = tempfile::tempdir().unwrap();
    let local = FetchPolicy::new(RemotePolicy::Local);
    let redirected = {
        let (mirror, credentials, local) = (
            mirrors.path().join("redirected.git"),
            credentials.clone(),
            local.clone(),
        );
        let url = format!("{first}/acme/widgets.git");
        tokio::task::spawn_blocking(move || sync(&local, Some(&credentials), &mirror, &url))
            .await
            .unwrap()
    };
    assert!(redirected.is_err(), "no credential, no fetch");
    let (unauthorized, authorized) = server.requests();
    assert!(unauthorized > 0, "the redirect was followed");
    assert_eq!(authorized, 0, "the other origin never saw the credential");

    // The same credential to the server's own origin works.
    let url = format!("{}/acme/widgets.git", server.serve().await);
    let mirror = mirrors.path().join("direct.git");
    tokio::task::spawn_blocking(move || sync(&local, Some(&credentials), &mirror, &url))
        .await
        .unwrap()
        .unwrap();
    assert!(server.requests().1 > 0);
}

/// `len` bytes no compression shrinks (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn a_pack_over_the_mirror_size_cap_is_refused_and_leaves_nothing() {
    let origin = origin();
    common::write(origin.path(), "blob.bin", &noise(4 << 20));
    git(origin.path(), &["add", "-A"]);
    git(origin.path(), &["commit", "-q", "-m", "large"]);
    let mirrors = tempfile::tempdir().unwrap();
    let mirror = mirrors.path().join("capped.git");
    let policy = FetchPolicy {
        max_mirror_bytes: 1 << 20,
        ..FetchPolicy::new(RemotePolicy::Local)
    };
    let error = sync(&policy, None, &mirror, origin.path().to_str().unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the repository is larger than the mirror size cap of 1048576 bytes (SCANNER_MAX_MIRROR_BYTES): not fetched"
    );
    assert_eq!(
        std::fs::read_dir(mirrors.path()).unwrap().count(),
        0,
        "neither the mirror nor its half-made clone is left"
    );
    let roomy = FetchPolicy {
        max_mirror_bytes: 8 << 20,
        ..policy
    };
    sync(&roomy, None, &mirror, origin.path().to_str().unwrap()).unwrap();
}

#[test]
fn a_failed_clone_never_removes_a_directory_another_attempt_is_cloning_into() {
    let mirrors = tempfile::tempdir().unwrap();
    let mirror = mirrors.path().join("busy.git");
    // Another attempt has begun cloning here.
    std::fs::create_dir_all(mirror.join("objects")).unwrap();
    std::fs::write(mirror.join("objects").join("in-progress"), b"").unwrap();
    let local = FetchPolicy::new(RemotePolicy::Local);
    let gone = mirrors.path().join("no-such-repository");
    assert!(sync(&local, None, &mirror, gone.to_str().unwrap()).is_err());
    assert!(mirror.join("objects").join("in-progress").exists());
    assert_eq!(std::fs::read_dir(mirrors.path()).unwrap().count(), 1);
}

#[test]
fn a_job_given_up_fetches_nothing_more() {
    let origin = origin();
    let mirrors = tempfile::tempdir().unwrap();
    let interrupt = Interrupt::new();
    let flag = interrupt.flag();
    // The job's future is dropped (its timeout): its blocking work sees the flag.
    drop(interrupt);
    assert!(flag.load(Ordering::SeqCst));
    let policy = FetchPolicy::new(RemotePolicy::Local);
    let fetcher = Fetcher {
        policy: &policy,
        credentials: None,
        host_keys: None,
        interrupt: &flag,
    };
    let error = fetcher
        .sync(
            &mirrors.path().join("late.git"),
            origin.path().to_str().unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.to_string(), "interrupted: the job was given up");
    assert!(!mirrors.path().join("late.git").exists());
}

/// Serves `server`'s repositories, but trickles each response over 64 KiB (the pack) out after its
/// first 64 KiB, telling `started` when it begins to: a slow remote.
async fn trickle(
    server: Arc<GitHttp>,
    started: tokio::sync::mpsc::Sender<()>,
    request: Request,
) -> Response {
    let pack = request.uri().path().ends_with("/git-upload-pack");
    let response = git_http(State(server), request).await;
    if !pack {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    if bytes.len() <= 64 << 10 {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let (mut sender, channel) = Channel::<Bytes, Infallible>::new(1);
    tokio::spawn(async move {
        let (head, rest) = bytes.split_at(64 << 10);
        sender
            .send_data(Bytes::copy_from_slice(head))
            .await
            .unwrap();
        started.send(()).await.unwrap();
        for chunk in rest.chunks(512) {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            if sender
                .send_data(Bytes::copy_from_slice(chunk))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Response::from_parts(parts, axum::body::Body::new(channel))
}

#[tokio::test]
async fn a_fetch_stops_mid_pack_when_its_job_is_given_up() {
    let work = origin();
    common::write(work.path(), "blob.bin", &noise(4 << 20));
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "large"]);
    let served = tempfile::tempdir().unwrap();
    GitHttp::publish(served.path(), work.path(), "slow.git");
    let server = GitHttp::new(served.path(), "git", "pw");
    let (started, mut begun) = tokio::sync::mpsc::channel(1);
    let app = axum::Router::new()
        .fallback(move |request| trickle(server.clone(), started.clone(), request));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow.git", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mirrors = tempfile::tempdir().unwrap();
    let mirror = mirrors.path().join("slow.git");
    let interrupt = Interrupt::new();
    let flag = interrupt.flag();
    let fetch = {
        let mirror = mirror.clone();
        tokio::task::spawn_blocking(move || {
            let policy = FetchPolicy::new(RemotePolicy::Local);
            let credentials = Credentials::Basic {
                username: "git".into(),
                password: SecretString::from("pw"),
            };
            let fetcher = Fetcher {
                policy: &policy,
                credentials: Some(&credentials),
                host_keys: None,
                interrupt: &flag,
            };
            fetcher.sync(&mirror, &url)
        })
    };
    let mut fetch = std::pin::pin!(fetch);
    tokio::select! {
        _ = begun.recv() => {}
        done = &mut fetch => panic!("the fetch ended before the pack trickled: {done:?}"),
    }
    // The job is given up (its timeout drops its future, and with it the interrupt).
    drop(interrupt);
    let error = fetch.await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "interrupted: the job was given up");
    assert!(!mirror.exists(), "the half-made clone is gone");
}

#[test]
fn a_submodule_gets_the_repositorys_credential_only_on_its_origin() {
    let policy = FetchPolicy::new(RemotePolicy::Local);
    let interrupt = AtomicBool::new(false);
    let key = Credentials::SshKey(SecretString::from("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let fetcher = Fetcher {
        policy: &policy,
        credentials: Some(&key),
        host_keys: Some("github.com ssh-ed25519 AAAA"),
        interrupt: &interrupt,
    };
    let parent = "git@github.com:acme/app.git";
    let same = fetcher.for_submodule(parent, "ssh://git@github.com/acme/lib.git");
    assert!(same.credentials.is_some());
    for other in [
        "https://github.com/acme/lib.git",
        "ssh://git@github.com:2222/acme/lib.git",
        "git@gitlab.com:acme/lib.git",
    ] {
        let sub = fetcher.for_submodule(parent, other);
        assert!(sub.credentials.is_none(), "{other}");
    }
}
