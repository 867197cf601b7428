//! Detection over a real git repository made with the git CLI, read from its object database.

mod common;

use common::{git, write};
use dashboard_scanner::{detect::detect, git::GitTree};

#[test]
fn projects_are_read_from_the_object_database_at_any_commit() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q"]);
    write(
        dir,
        "Cargo.toml",
        b"[workspace]\nmembers = [\"crates/*\"]\n",
    );
    write(
        dir,
        "crates/a/Cargo.toml",
        b"[package]\nname = \"a\"\nversion = \"1.0.0\"\n",
    );
    write(
        dir,
        "tasklist.md",
        b"---\nname: Plan\n---\n- [ ] TASK-P-1 Begin\n",
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let first = git(dir, &["rev-parse", "HEAD"]);

    write(
        dir,
        "crates/b/Cargo.toml",
        b"[package]\nname = \"b\"\nversion = \"2.0.0\"\n",
    );
    let mut huge = b"{\"name\": \"huge\", \"padding\": \"".to_vec();
    huge.resize(5 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"\"}");
    write(dir, "web/package.json", &huge);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "second"]);
    // The working tree is not what is read: remove it entirely.
    std::fs::remove_dir_all(dir.join("crates")).unwrap();

    let head = GitTree::open(dir, None).unwrap();
    let projects = detect(&head);
    let names: Vec<(&str, Vec<&str>, Option<&str>)> = projects
        .iter()
        .map(|p| (p.path.as_str(), p.types.clone(), p.name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("", vec!["cargo", "tasklist"], Some("Plan")),
            ("crates/a", vec!["cargo"], Some("a")),
            ("crates/b", vec!["cargo"], Some("b")),
            ("web", vec!["npm"], None)
        ],
        "the virtual workspace's directory is named by its task list"
    );
    let skipped = head.skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].starts_with("web/package.json") && skipped[0].contains("4 MiB"),
        "{skipped:?}"
    );

    let old = GitTree::open(dir, Some(&first)).unwrap();
    assert_eq!(old.commit.to_string(), first);
    assert_eq!(
        detect(&old).len(),
        2,
        "the first commit had two projects: the root and crates/a"
    );
    assert!(GitTree::open(dir, Some("no-such-branch")).is_err());
    assert!(
        GitTree::open(&dir.join("web"), None).is_err(),
        "a directory inside is not the repository"
    );
}
