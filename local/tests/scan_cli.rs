//! `dashboard scan` as a user runs it: on a checkout, on a URL (mirrored into the cache, with
//! submodules fetched from their own URLs), as a table and as JSON; bad input exits 1 with a message.

mod common;

use std::{path::Path, process::Command};

use common::git;

use serde_json::Value;

fn write(dir: &Path, path: &str, contents: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, contents).unwrap();
}

fn dashboard(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn scan_prints_the_projects_of_a_checkout_and_of_a_url_with_submodules() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let lib = root.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "-q"]);
    write(
        &lib,
        "Cargo.toml",
        "[package]\nname = \"lib\"\nversion = \"0.2.0\"\n",
    );
    write(&lib, "src/lib.rs", "// TODO: document\n");
    git(&lib, &["add", "-A"]);
    git(&lib, &["commit", "-q", "-m", "lib"]);
    let pinned = git(&lib, &["rev-parse", "HEAD"]);

    let app = root.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    git(&app, &["init", "-q"]);
    write(
        &app,
        "package.json",
        r#"{"name": "app", "version": "1.0.0"}"#,
    );
    write(
        &app,
        ".gitmodules",
        "[submodule \"lib\"]\n\tpath = vendor-free/lib\n\turl = ../lib\n",
    );
    git(&app, &["add", "-A"]);
    git(
        &app,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{pinned},vendor-free/lib"),
        ],
    );
    git(&app, &["commit", "-q", "-m", "app"]);

    // A checkout, as a table: the submodule is an entry of its own.
    let table = dashboard(cache.path(), &["scan", app.to_str().unwrap()]);
    assert!(table.status.success());
    let stdout = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "PATH", "TYPE", "NAME", "VERSION", "TODO", "FIXME", "MEMBER", "OF"
        ]
    );
    assert_eq!(lines[1], [".", "npm", "app", "1.0.0", "0", "0", "-"]);
    assert_eq!(
        lines[2],
        [
            "vendor-free/lib",
            "git-submodule",
            "lib",
            "-",
            "0",
            "0",
            "-"
        ]
    );

    // A URL, recursively, as JSON: the submodule's own project takes its place.
    let url = format!("file://{}", app.display());
    let json = dashboard(
        cache.path(),
        &["scan", &url, "--recurse-submodules", "--json"],
    );
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let output: Value = serde_json::from_slice(&json.stdout).unwrap();
    let projects = output["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2);
    let lib_project = &projects[1];
    assert_eq!(lib_project["path"], "vendor-free/lib");
    assert_eq!(lib_project["type"], "cargo");
    assert_eq!(lib_project["version"], "0.2.0");
    assert_eq!(lib_project["parent_path"], "");
    assert_eq!(lib_project["todo_count"], 1);
    assert_eq!(output["commit"], git(&app, &["rev-parse", "HEAD"]));
    assert_eq!(
        cache
            .path()
            .join("dashboard/mirrors")
            .read_dir()
            .unwrap()
            .count(),
        2,
        "the repository and its submodule are mirrored in the cache"
    );

    // A checkout named relatively, without a remote: relative submodule URLs resolve against its
    // own directory.
    let relative = Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(["scan", "app", "--recurse-submodules", "--json"])
        .current_dir(root.path())
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    assert!(
        relative.status.success(),
        "{}",
        String::from_utf8_lossy(&relative.stderr)
    );
    let output: Value = serde_json::from_slice(&relative.stdout).unwrap();
    assert_eq!(output["projects"][1]["type"], "cargo", "{output:#}");

    let missing = dashboard(cache.path(), &["scan", "/no/such/repository"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("/no/such/repository: no such directory, and not a URL")
    );
    let not_git = dashboard(cache.path(), &["scan", root.path().to_str().unwrap()]);
    assert_eq!(not_git.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_git.stderr).contains("is not a git repository"));
}

#[test]
fn the_machines_git_configuration_has_no_effect_on_a_scan() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    for name in ["real", "decoy"] {
        let repo = root.path().join(name);
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q"]);
        write(&repo, "package.json", &format!(r#"{{"name": "{name}"}}"#));
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", name]);
    }
    // A user's global configuration that would send the fetch elsewhere, and ask a helper.
    let home = tempfile::tempdir().unwrap();
    let base = root.path().display();
    write(
        home.path(),
        ".gitconfig",
        &format!(
            "[url \"file://{base}/decoy\"]\n\tinsteadOf = file://{base}/real\n\
             [credential]\n\thelper = \"!echo password=leaked\"\n"
        ),
    );
    let url = format!("file://{base}/real");
    let output = Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(["scan", &url, "--json"])
        .env("XDG_CACHE_HOME", cache.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let scanned: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(scanned["projects"][0]["name"], "real", "{scanned:#}");
}

#[test]
fn a_submodule_fan_out_of_4_to_the_8th_is_scanned_within_the_cap() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fan = root.path().join("fan");
    std::fs::create_dir_all(&fan).unwrap();
    git(&fan, &["init", "-q"]);
    write(&fan, "package.json", r#"{"name": "leaf"}"#);
    git(&fan, &["add", "-A"]);
    git(&fan, &["commit", "-q", "-m", "leaf"]);
    let gitmodules: String = (1..=4)
        .map(|s| format!("[submodule \"s{s}\"]\n\tpath = s{s}\n\turl = ../fan\n"))
        .collect();
    for level in 1..=8 {
        let head = git(&fan, &["rev-parse", "HEAD"]);
        for s in 1..=4 {
            let info = format!("160000,{head},s{s}");
            git(&fan, &["update-index", "--add", "--cacheinfo", &info]);
        }
        write(&fan, ".gitmodules", &gitmodules);
        git(&fan, &["add", ".gitmodules"]);
        git(&fan, &["commit", "-q", "-m", &format!("level {level}")]);
    }
    let url = format!("file://{}", fan.display());
    let output = dashboard(
        cache.path(),
        &["scan", &url, "--recurse-submodules", "--json"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let scanned: Value = serde_json::from_slice(&output.stdout).unwrap();
    let projects = scanned["projects"].as_array().unwrap();
    let npm = projects.iter().filter(|p| p["type"] == "npm").count();
    assert_eq!(npm, 257, "the root and 256 mounted submodules");
    assert!(
        projects.iter().any(|p| p["problems"]
            .to_string()
            .contains("the scan's cap of 256 submodules was reached")),
        "the cap is reported"
    );
}
