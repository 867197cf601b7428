//! SSH remotes are fetched isolated from the machine's ssh set-up and with the host keys pinned in
//! the repository row: the first poll pins the key it meets, a fresh instance (new mirrors, no
//! known_hosts of its own) checks it strictly, and a changed key fails the poll with a clear error.
//! Through the jobs, the ssh program is a stand-in that keeps a host key as OpenSSH does with the
//! options it is given, then runs the remote command on this machine; the fetch itself is also run
//! against a real OpenSSH server on a loopback port whose host key then changes.

mod common;

use std::{
    os::unix::fs::PermissionsExt as _, path::Path, process::Command, sync::atomic::AtomicBool,
};

use common::{commit, git};
use dashboard_scanner::{
    mirror::{Credentials, Fetcher},
    remote::{FetchPolicy, RemotePolicy},
};
use dashboard_shared::{
    TenantId,
    jobs::{self, kinds::PollRepository},
    testing,
};
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

/// Writes an `ssh` stand-in whose server has host key `key`; it logs its arguments to `log`.
fn fake_ssh(dir: &Path, key: &str, log: &Path) -> std::path::PathBuf {
    let program = dir.join("ssh");
    let script = format!(
        r#"#!/bin/sh
echo "$@" >> '{log}'
known=/dev/null; strict=ask; alias=""; errors=/dev/stderr
while [ $# -gt 0 ]; do
  case "$1" in
    -o) case "$2" in
          UserKnownHostsFile=*) known="${{2#UserKnownHostsFile=}}" ;;
          StrictHostKeyChecking=*) strict="${{2#StrictHostKeyChecking=}}" ;;
          HostKeyAlias=*) alias="${{2#HostKeyAlias=}}" ;;
        esac; shift 2 ;;
    -E) errors="$2"; shift 2 ;;
    -i|-p|-F) shift 2 ;;
    -*) shift ;;
    *) shift; break ;;
  esac
done
line="$alias ssh-ed25519 {key}"
if grep -q "^$alias " "$known"; then
  grep -qxF "$line" "$known" || {{
    echo "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@" >> "$errors"
    echo "Host key verification failed." >> "$errors"; exit 255; }}
elif [ "$strict" = accept-new ]; then
  echo "$line" >> "$known"
else
  echo "Host key verification failed." >> "$errors"; exit 255
fi
exec sh -c "$*"
"#,
        log = log.display()
    );
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

/// Polls `repository` on a fresh instance (its own mirrors) whose ssh is `program`.
async fn poll(admin: &PgPool, tenant: TenantId, repository: Uuid, program: &Path) {
    let mirrors = tempfile::tempdir().unwrap();
    let mut ctx = common::context(admin, mirrors.path());
    ctx.fetch.ssh_program = program.to_str().unwrap().to_owned();
    let mut tx = ctx.db.tenant(tenant).await.unwrap();
    jobs::enqueue(&mut tx, &PollRepository { repository })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    dashboard_scanner::worker(ctx).drain().await.unwrap();
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_first_host_key_is_pinned_and_a_changed_one_fails_every_instance(admin: PgPool) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    commit(work.path(), "README.md", "# Demo\n", "start");
    let served = tempfile::tempdir().unwrap();
    let bare = served.path().join("demo.git");
    git(
        served.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.path().to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let url = format!("ssh://git@example.invalid{}", bare.display());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = common::add_repository(&admin, tenant, &url).await;
    let tools = tempfile::tempdir().unwrap();
    let log = tools.path().join("args.log");

    let first = fake_ssh(tools.path(), "AAAAfirstKey", &log);
    poll(&admin, tenant, repository, &first).await;
    let pinned: Option<String> = sqlx::query_scalar("select ssh_host_keys from app.repositories")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(
        pinned.as_deref(),
        Some("example.invalid ssh-ed25519 AAAAfirstKey")
    );
    let args = std::fs::read_to_string(&log).unwrap();
    for isolated in [
        "-F /dev/null",
        "-o IdentityAgent=none",
        "-o BatchMode=yes",
        "-o IdentitiesOnly=yes",
        "-o GlobalKnownHostsFile=/dev/null",
        "-o StrictHostKeyChecking=accept-new",
    ] {
        assert!(args.contains(isolated), "{isolated}: {args}");
    }

    // A fresh instance checks the pinned key strictly, and accepts it.
    std::fs::remove_file(&log).unwrap();
    poll(&admin, tenant, repository, &first).await;
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.contains("-o StrictHostKeyChecking=yes"), "{args}");
    assert!(!args.contains("accept-new"), "{args}");
    let failed: i64 =
        sqlx::query_scalar("select count(*) from app.jobs where last_error is not null")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(failed, 0);

    // The server's key changes: every instance refuses it.
    let changed = fake_ssh(tools.path(), "AAAAotherKey", &log);
    poll(&admin, tenant, repository, &changed).await;
    let error: String = sqlx::query_scalar(
        "select last_error from app.jobs where kind = 'poll_repository' and last_error is not null",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(
        error.contains("the SSH host key of example.invalid is not the one pinned"),
        "{error}"
    );
    let still: Option<String> = sqlx::query_scalar("select ssh_host_keys from app.repositories")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(still, pinned, "the pin is not replaced");
}

/// A real OpenSSH server on a loopback port, serving this machine's files to one client key, with
/// the host key at `host_key`; stopped when dropped.
struct Sshd {
    child: std::process::Child,
    port: u16,
}

impl Sshd {
    fn start(dir: &Path, host_key: &Path) -> Self {
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.exists(),
            "this test needs OpenSSH's server (Debian: apt-get install openssh-server)"
        );
        // As root, sshd wants its privilege separation directory (the package's service makes it).
        if Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let port = testing::binary::free_port();
        let config = dir.join(format!("sshd_config_{port}"));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nPermitRootLogin prohibit-password\nPidFile none\n",
                host_key.display(),
                dir.join("authorized_keys").display()
            ),
        )
        .unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut sshd = Self { child, port };
        // Until it listens (20 s at most).
        for _ in 0..2000 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sshd;
            }
            assert!(sshd.child.try_wait().unwrap().is_none(), "sshd exited");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("sshd did not listen on port {port}");
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_real_ssh_server_has_its_key_pinned_then_a_changed_key_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (host_key, other_key, client) = (
        dir.path().join("host"),
        dir.path().join("other"),
        dir.path().join("client"),
    );
    for key in [&host_key, &other_key, &client] {
        keygen(key);
    }
    std::fs::copy(
        client.with_extension("pub"),
        dir.path().join("authorized_keys"),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    commit(work.path(), "README.md", "# Demo\n", "start");
    let bare = dir.path().join("demo.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.path().to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    let key = Credentials::SshKey(SecretString::from(
        std::fs::read_to_string(&client).unwrap(),
    ));
    let policy = FetchPolicy::new(RemotePolicy::Local);
    let interrupt = AtomicBool::new(false);
    let sync = |port: u16, pinned: Option<&str>, mirror: &str| {
        let url = format!("ssh://{}@127.0.0.1:{port}{}", user.trim(), bare.display());
        let fetcher = Fetcher {
            policy: &policy,
            credentials: Some(&key),
            host_keys: pinned,
            interrupt: &interrupt,
        };
        fetcher.sync(&dir.path().join(mirror), &url)
    };

    let server = Sshd::start(dir.path(), &host_key);
    let first = sync(server.port, None, "first.git").unwrap();
    let pinned = first.host_keys.expect("the key met on first contact");
    let public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let public = public.split_whitespace().nth(1).unwrap();
    assert!(pinned.contains(public), "{pinned}");
    let again = sync(server.port, Some(&pinned), "again.git").unwrap();
    assert_eq!(again.host_keys, None, "nothing new to pin");
    drop(server);

    let changed = Sshd::start(dir.path(), &other_key);
    let error = sync(changed.port, Some(&pinned), "changed.git").unwrap_err();
    assert!(
        format!("{error:#}").contains("the SSH host key of 127.0.0.1 is not the one pinned"),
        "{error:#}"
    );
}
