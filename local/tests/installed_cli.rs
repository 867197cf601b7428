//! `dashboard` as an installed binary runs it, away from the source tree: its data directory is
//! `.dashboard` in the working directory (or `DASHBOARD_DATA_DIR`), and a command whose reader goes
//! away (`dashboard show | head`) ends quietly and still stops the PostgreSQL it started.

mod common;

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Command, Output, Stdio},
};

use common::git;

/// `dashboard ARGS` in `cwd`, with no data directory, database or log settings of the caller's;
/// stdout into a pipe whose reader is already gone when `closed`.
fn dashboard(cwd: &Path, args: &[&str], closed: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dashboard"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DASHBOARD_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("LOG_FORMAT", "text")
        .env("XDG_CACHE_HOME", cwd.join("cache"))
        .stderr(Stdio::piped());
    if closed {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        command.stdout(writer);
    } else {
        command.stdout(Stdio::piped());
    }
    command.spawn().unwrap().wait_with_output().unwrap()
}

fn assert_quiet_success(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what}: {:?}\n{stderr}",
        output.status
    );
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("Broken pipe")
            && !stderr.contains("error"),
        "{what}: {stderr}"
    );
}

#[test]
fn a_printing_command_ends_quietly_when_its_reader_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"piped\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("src/lib.rs"), "// TODO: one\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "piped"]);
    let path = repo.to_str().unwrap();
    for args in [&["scan", path][..], &["scan", path, "--json"]] {
        let output = dashboard(dir.path(), args, true);
        assert_quiet_success(&output, &format!("{args:?} into a closed pipe"));
        // Read, the same command prints its table.
        let read = dashboard(dir.path(), args, false);
        assert_quiet_success(&read, &format!("{args:?}"));
        assert!(String::from_utf8_lossy(&read.stdout).contains("piped"));
    }
}

#[test]
fn show_from_any_directory_keeps_its_data_there_and_stops_its_cluster_after_a_closed_pipe() {
    let cwd = tempfile::tempdir().unwrap();
    // Run as root, PostgreSQL runs as `postgres` and must reach its directory.
    std::fs::set_permissions(cwd.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let data = cwd.path().join(".dashboard");

    let output = dashboard(cwd.path(), &["show", "--tenant", "hookup-app"], true);
    assert_quiet_success(&output, "show into a closed pipe");
    let cluster = data.join("postgres/data");
    assert!(
        cluster.join("PG_VERSION").exists(),
        "the cluster is in the working directory's .dashboard"
    );
    // The command started the cluster, so it stopped it, closed pipe or not.
    assert!(
        !cluster.join("postmaster.pid").exists(),
        "PostgreSQL is still running"
    );

    let read = dashboard(cwd.path(), &["show", "--tenant", "hookup-app"], false);
    assert_quiet_success(&read, "show");
    let stdout = String::from_utf8(read.stdout).unwrap();
    assert!(stdout.starts_with("hookup-app: 0 repositories"), "{stdout}");
    assert!(!cluster.join("postmaster.pid").exists());
}
