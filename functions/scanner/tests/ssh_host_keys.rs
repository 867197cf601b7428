//! SSH remotes are fetched isolated from the machine's ssh set-up and with the host keys pinned in
//! the repository row: the first poll pins the key it meets, a fresh instance (new mirrors, no
//! known_hosts of its own) checks it strictly, and a changed key fails the poll with a clear error.
//! The ssh program is a stand-in that keeps a host key as OpenSSH does with the options it is given,
//! then runs the remote command on this machine.

mod common;

use std::{os::unix::fs::PermissionsExt as _, path::Path};

use common::{commit, git};
use dashboard_shared::{
    TenantId,
    jobs::{self, kinds::PollRepository},
    testing,
};
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
