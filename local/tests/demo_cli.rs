//! The whole pipeline as a newcomer runs it, on the machine's own PostgreSQL: `dashboard up --demo`
//! generates, connects and ingests the demo repositories; `dashboard show --json` then lists
//! coditect-ai's 45 projects with their hierarchy, find-me-a-mechanic's commits linked to its tasks
//! and nothing for hookup-app, no organization seeing another's data. Beside the running `up`, a new
//! repository is connected with `repo add`; a `Fixes TASK-DEMO-1` commit is stored, linked
//! explicit/closes and closes its task one `repo sync` later; syncing again changes nothing; a link
//! added by hand and one removed survive `link relink`.

mod common;

use std::{
    io::{BufRead as _, BufReader},
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::git;
use serde_json::{Value, json};

fn dashboard(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dashboard"));
    command
        .env("DASHBOARD_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("LOG_FORMAT", "text");
    command
}

fn run(data: &Path, args: &[&str]) -> String {
    let output = dashboard(data).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "dashboard {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn show(data: &Path, tenant: &str) -> Value {
    serde_json::from_str(&run(data, &["show", "--tenant", tenant, "--json"])).unwrap()
}

/// Every project of a tree, with its parent's path.
fn flatten<'a>(
    nodes: &'a [Value],
    parent: Option<&'a str>,
    out: &mut Vec<(&'a str, Option<&'a str>)>,
) {
    for node in nodes {
        let path = node["path"].as_str().unwrap();
        out.push((path, parent));
        flatten(node["children"].as_array().unwrap(), Some(path), out);
    }
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

/// One HTTP/1.1 request to `address` (`host:port`); its status and body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let authorization = bearer.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n{authorization}\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Starts `up --demo` and waits until it serves; the log lines it printed so far.
fn up_demo(data: &Path, ssh: &Path, key: &Path) -> (Child, Vec<String>) {
    let mut child = dashboard(data)
        .args(["up", "--demo", "--port", "0"])
        .env("DASHBOARD_SSH", ssh)
        .env("FAKE_SSH_EXPECTED_KEY", key)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match receive.recv_timeout(Duration::from_secs(180)) {
            Ok(line) => {
                let up = line.contains("Dashboard is up");
                seen.push(line);
                if up {
                    // Keep draining the pipe so that `up` never blocks on a full one.
                    std::thread::spawn(move || while receive.recv().is_ok() {});
                    return (child, seen);
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`up --demo` did not come up:\n{}", seen.join("\n"));
            }
        }
    }
}

#[test]
fn up_demo_then_show_and_a_polled_repository_closing_its_task() {
    let data = tempfile::tempdir().unwrap();
    // Run as root, PostgreSQL runs as `postgres` and must reach its directory.
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    // For ssh remotes, a stand-in for ssh that checks the key it is given and runs the remote
    // command on this machine (jobs may run in `up` or in the command, so both get it).
    let keys = tempfile::tempdir().unwrap();
    let fake_ssh = keys.path().join("ssh");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fake-ssh"),
        &fake_ssh,
    )
    .unwrap();
    std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let key = keys.path().join("id_ed25519");
    std::fs::write(
        &key,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nZGVtbw==\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    let wrong = keys.path().join("wrong");
    std::fs::write(
        &wrong,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nd3Jvbmc=\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    let (mut up, log) = up_demo(data.path(), &fake_ssh, &key);
    assert!(
        log.iter().any(|l| l.contains("demo ingested and linked")),
        "{log:#?}"
    );

    // coditect-ai: 45 projects, the master, 6 categories under it, 38 submodules under those.
    let coditect = show(data.path(), "coditect-ai");
    assert_eq!(
        coditect["totals"]["projects"], 45,
        "{:#}",
        coditect["totals"]
    );
    let mut projects = Vec::new();
    flatten(
        coditect["projects"].as_array().unwrap(),
        None,
        &mut projects,
    );
    assert_eq!(projects.len(), 45);
    assert_eq!(projects[0], ("", None), "the master at the root");
    let categories: Vec<&str> = projects
        .iter()
        .filter(|(_, parent)| *parent == Some(""))
        .map(|(path, _)| *path)
        .collect();
    assert_eq!(
        categories,
        [
            "agents",
            "core",
            "docs",
            "integrations",
            "operations",
            "platform"
        ]
    );
    for (path, parent) in &projects[1..] {
        if let Some((category, _)) = path.split_once('/') {
            assert_eq!(*parent, Some(category), "{path}");
        }
    }

    // find-me-a-mechanic: one project at its root, an npm application with its task list, and
    // commits that close, reference and resemble its tasks.
    let mechanic = show(data.path(), "find-me-a-mechanic");
    let root = &mechanic["projects"].as_array().unwrap()[..];
    assert_eq!(root.len(), 1, "{:#}", mechanic["projects"]);
    assert_eq!(
        (
            &root[0]["path"],
            &root[0]["type"],
            &root[0]["types"],
            &root[0]["name"],
            &root[0]["tasks"]
        ),
        (
            &json!(""),
            &json!("npm"),
            &json!(["npm", "tasklist"]),
            &json!("find-me-a-mechanic"),
            &json!(6)
        )
    );
    let links: Vec<(String, String, String, String)> = mechanic["commits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["links"].as_array().unwrap().iter().map(move |l| {
                (
                    c["title"].as_str().unwrap().to_owned(),
                    l["task"]["key"].as_str().unwrap().to_owned(),
                    l["method"].as_str().unwrap().to_owned(),
                    l["relation"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    let has = |task: &str, method: &str, relation: &str| {
        links
            .iter()
            .any(|(_, t, m, r)| t == task && m == method && r == relation)
    };
    assert!(has("TASK-FMM-2", "explicit", "closes"), "{links:#?}");
    assert!(has("TASK-FMM-1", "explicit", "references"), "{links:#?}");
    assert!(
        has("TASK-FMM-5", "explicit", "references"),
        "the branch's name: {links:#?}"
    );
    assert!(has("TASK-FMM-3", "similarity", "references"), "{links:#?}");
    assert!(has("TASK-FMM-4", "similarity", "references"), "{links:#?}");
    assert_eq!(mechanic["totals"]["tasks_done"], 1, "TASK-FMM-2 closed");

    // hookup-app: nothing; and no organization sees another's repositories.
    let hookup = show(data.path(), "hookup-app");
    assert_eq!(hookup["totals"]["projects"], 0);
    assert_eq!(hookup["commits"].as_array().unwrap().len(), 0);
    let repositories = |view: &Value| -> Vec<String> {
        view["commits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["repository"].as_str().unwrap().to_owned())
            .chain(
                view["projects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["repository"].as_str().unwrap().to_owned()),
            )
            .collect()
    };
    assert!(
        repositories(&coditect)
            .iter()
            .all(|r| r == "coditect-master")
    );
    assert!(
        repositories(&mechanic)
            .iter()
            .all(|r| r == "find-me-a-mechanic")
    );

    // A repository of one's own, beside the running `up`.
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    std::fs::write(
        work.path().join("tasklist.md"),
        "- [ ] TASK-DEMO-1 Sign-up form\n- [ ] TASK-DEMO-2 Password reset\n",
    )
    .unwrap();
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "Start"]);
    let path = work.path().to_str().unwrap();
    let added = run(
        data.path(),
        &["repo", "add", "--tenant", "hookup-app", path],
    );
    assert!(added.contains("1 projects, 2 tasks (0 done)"), "{added}");

    std::fs::write(work.path().join("signup.js"), "export {};\n").unwrap();
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "Fixes TASK-DEMO-1"]);
    run(data.path(), &["repo", "sync", "--tenant", "hookup-app"]);
    let synced = show(data.path(), "hookup-app");
    let newest = synced["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Fixes TASK-DEMO-1")
        .expect("the new commit is stored");
    assert_eq!(newest["title"], "Fixes TASK-DEMO-1");
    assert_eq!(newest["links"][0]["task"]["key"], "TASK-DEMO-1");
    assert_eq!(newest["links"][0]["method"], "explicit");
    assert_eq!(newest["links"][0]["relation"], "closes");
    assert_eq!(newest["links"][0]["task"]["status"], "done");
    assert_eq!(synced["totals"]["tasks_done"], 1);

    run(data.path(), &["repo", "sync", "--tenant", "hookup-app"]);
    assert_eq!(
        show(data.path(), "hookup-app"),
        synced,
        "polling again changes nothing"
    );
    let listed: Value = serde_json::from_str(&run(
        data.path(),
        &["repo", "list", "--tenant", "hookup-app", "--json"],
    ))
    .unwrap();
    assert_eq!(listed[0]["commits"], 2);
    assert_eq!(listed[0]["default_branch"], "main");

    // A person's corrections: a link by hand, a link removed for good; relinking keeps both.
    let start = git(work.path(), &["rev-parse", "HEAD~1"]);
    let fix = git(work.path(), &["rev-parse", "HEAD"]);
    let added = run(
        data.path(),
        &[
            "link",
            "add",
            "--tenant",
            "hookup-app",
            &start[..8],
            "TASK-DEMO-2",
        ],
    );
    assert!(added.contains("linked by hand"), "{added}");
    run(
        data.path(),
        &[
            "link",
            "remove",
            "--tenant",
            "hookup-app",
            &fix,
            "TASK-DEMO-1",
        ],
    );
    let relinked = run(data.path(), &["link", "relink", "--tenant", "hookup-app"]);
    assert!(relinked.contains("every repository relinked"), "{relinked}");
    let corrected = show(data.path(), "hookup-app");
    let links_of = |title: &str| -> Vec<(String, String)> {
        corrected["commits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == title)
            .unwrap()["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["task"]["key"].as_str().unwrap().to_owned(),
                    l["method"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        links_of("Start"),
        [("TASK-DEMO-2".to_owned(), "manual".to_owned())]
    );
    assert_eq!(links_of("Fixes TASK-DEMO-1"), [], "removed stays removed");
    let unknown = dashboard(data.path())
        .args(["link", "add", "--tenant", "hookup-app", &fix, "TASK-NOPE-1"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no task TASK-NOPE-1"));

    // Over ssh with a private key, never stored in the clear.
    let bare = keys.path().join("demo.git");
    git(
        keys.path(),
        &["clone", "-q", "--bare", path, bare.to_str().unwrap()],
    );
    let url = format!("ssh://git@example.invalid{}", bare.display());
    let over_ssh = |given: &Path| {
        dashboard(data.path())
            .args(["repo", "add", "--tenant", "find-me-a-mechanic", "--ssh-key"])
            .arg(given)
            .arg(&url)
            .env("DASHBOARD_SSH", &fake_ssh)
            .env("FAKE_SSH_EXPECTED_KEY", &key)
            .output()
            .unwrap()
    };
    let refused = over_ssh(&wrong);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("so it was not connected"), "{stderr}");
    assert!(!stderr.contains("d3Jvbmc"), "{stderr}");
    let accepted = over_ssh(&key);
    let stdout = String::from_utf8_lossy(&accepted.stdout);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert!(stdout.contains("2 commits"), "{stdout}");
    let key_files = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("dashboard-ssh-")
        })
        .count();
    assert_eq!(key_files, 0, "the key file is gone after the fetch");

    // Bad input is refused with a reason.
    let refused = dashboard(data.path())
        .args(["repo", "add", "--tenant", "nobody", path])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no organization `nobody`"));

    // People: the demo owner signs in with the password `up` logged and owns the three demo
    // organizations; an account and a personal API token made on the command line reach exactly
    // their organization.
    let log: Vec<String> = log.iter().map(|line| plain(line)).collect();
    let address = log
        .iter()
        .find_map(|l| l.split("Dashboard is up: http://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .expect("the address `up` serves on")
        .to_owned();
    let password = log
        .iter()
        .find(|l| l.contains("demo owner"))
        .and_then(|l| l.split("password=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo owner's password in the log")
        .to_owned();
    let (status, signed_in) = http(
        &address,
        "POST",
        "/api/v2/auth/password",
        None,
        &serde_json::json!({ "email": "demo@dashboard.local", "password": password }).to_string(),
    );
    assert_eq!(status, 200, "{signed_in}");
    let access = serde_json::from_str::<Value>(&signed_in).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, orgs) = http(&address, "GET", "/api/v2/user/orgs", Some(&access), "");
    assert_eq!(status, 200, "{orgs}");
    let orgs: Value = serde_json::from_str(&orgs).unwrap();
    let owned: Vec<(&str, &str)> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["slug"].as_str().unwrap(), o["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        owned,
        [
            ("coditect-ai", "owner"),
            ("find-me-a-mechanic", "owner"),
            ("hookup-app", "owner")
        ]
    );

    let password_file = work.path().join("ada-password");
    std::fs::write(&password_file, "correct horse battery staple 42\n").unwrap();
    let added = run(
        data.path(),
        &[
            "user",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-file",
            password_file.to_str().unwrap(),
            "--tenant",
            "hookup-app",
            "--role",
            "member",
        ],
    );
    assert!(
        added.contains("ada@example.com is member of hookup-app"),
        "{added}"
    );
    let token = run(
        data.path(),
        &[
            "token",
            "create",
            "--tenant",
            "hookup-app",
            "--email",
            "ada@example.com",
            "--role",
            "viewer",
            "--expires",
            "30d",
        ],
    );
    let token = token.trim();
    assert!(
        token.starts_with("dash_pat_") && !token.contains(char::is_whitespace),
        "{token}"
    );
    let (status, org) = http(&address, "GET", "/api/v2/orgs/hookup-app", Some(token), "");
    assert_eq!(status, 200, "{org}");
    let (status, _) = http(&address, "GET", "/api/v2/orgs/coditect-ai", Some(token), "");
    assert_eq!(status, 404, "another organization's is not found");
    let (status, _) = http(
        &address,
        "POST",
        "/api/v2/auth/password",
        None,
        &serde_json::json!({ "email": "ada@example.com", "password": "correct horse battery staple 42" })
            .to_string(),
    );
    assert_eq!(status, 200, "Ada signs in with the password from the file");
    let weak_file = work.path().join("weak-password");
    std::fs::write(&weak_file, "password\n").unwrap();
    let weak = dashboard(data.path())
        .args([
            "user",
            "add",
            "--email",
            "bob@example.com",
            "--password-file",
        ])
        .arg(&weak_file)
        .output()
        .unwrap();
    assert_eq!(weak.status.code(), Some(1), "a weak password is refused");
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("at least 15 characters"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );

    // SIGTERM stops `up` and its PostgreSQL.
    let _ = Command::new("kill").arg(up.id().to_string()).status();
    assert!(up.wait().unwrap().success());
}
