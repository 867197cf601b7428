//! Detection over a real git repository made with the git CLI, read from its object database.

mod common;

use common::{git, write};
use dashboard_scanner::{
    detect::{Tree as _, detect},
    git::{Caches, GitTree},
};

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

/// A repository with history packed as deltas: `versions` commits of a few crates whose files grow,
/// shrink and move, then `git gc --aggressive`.
fn repository_with_deltas(dir: &std::path::Path, versions: usize) {
    git(dir, &["init", "-q"]);
    for version in 0..versions {
        for krate in ["alpha", "beta", "gamma"] {
            write(
                dir,
                &format!("{krate}/Cargo.toml"),
                format!("[package]\nname = \"{krate}\"\nversion = \"0.{version}.0\"\n").as_bytes(),
            );
            for module in 0..4 {
                let mut source = String::new();
                // Lines come and go between versions, so every blob is a delta of another.
                for line in 0..(40 + (version * 7 + module * 3) % 25) {
                    source.push_str(&format!("fn f{line}() {{ /* {krate} {module} */ }}\n"));
                    if (line + version + module) % 9 == 0 {
                        source.push_str("// TODO: this line\n");
                    }
                    if (line + version) % 13 == 0 {
                        source.push_str("// FIXME: and this one\n");
                    }
                }
                write(dir, &format!("{krate}/src/m{module}.rs"), source.as_bytes());
            }
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", &format!("version {version}")]);
    }
    git(dir, &["gc", "-q", "--aggressive"]);
}

#[test]
fn a_scan_finds_the_same_with_any_caches_on_any_number_of_threads() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    repository_with_deltas(dir, 30);
    let packed = git(dir, &["count-objects", "-v"]);
    assert!(packed.contains("count: 0"), "all objects packed: {packed}");

    let reference = GitTree::open_with(dir, None, Caches::NONE).unwrap();
    let expected = detect(&reference);
    assert_eq!(expected.len(), 3, "{expected:?}");
    assert!(
        expected
            .iter()
            .all(|p| p.todo_count > 0 && p.fixme_count > 0)
    );
    let caches = [
        Caches::default(),
        Caches {
            pack_bytes: 64 * 1024 * 1024,
            object_bytes: 16 * 1024 * 1024,
        },
        // Smaller than most objects: every put is refused.
        Caches {
            pack_bytes: 64,
            object_bytes: 64,
        },
    ];
    for caches in caches {
        let tree = GitTree::open_with(dir, None, caches).unwrap();
        // Twice: the second scan reads through warm caches.
        for _ in 0..2 {
            assert_eq!(detect(&tree), expected, "{caches:?}");
        }
        for path in tree.paths() {
            let mut inspected = None;
            assert!(tree.inspect(&path, &mut |bytes| inspected = Some(bytes.to_vec())));
            assert_eq!(inspected, reference.read(&path), "{path} with {caches:?}");
        }
    }
}

#[test]
fn a_scan_holds_one_repository_handle_per_reading_thread() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    repository_with_deltas(dir, 3);
    let tree = GitTree::open(dir, None).unwrap();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for _ in 0..3 {
        detect(&tree);
    }
    assert!(
        (1..=threads + 1).contains(&tree.handles()),
        "{} handles for {threads} threads",
        tree.handles()
    );
    // Many more threads than that, one after the other, still share a handle.
    for _ in 0..20 {
        std::thread::scope(|scope| {
            scope.spawn(|| tree.read("alpha/Cargo.toml").unwrap());
        });
    }
    assert!(tree.handles() <= threads + 1, "{}", tree.handles());
}
