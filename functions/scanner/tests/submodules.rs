//! Repositories of submodules, scanned recursively by the scan job: a master repository laid out
//! like the original plan (6 category directories with a `tasklist.md`, 38 submodules with a
//! `package.json` and a `tasklist.md` each) becomes exactly 45 projects — one per directory — with
//! their hierarchy and tasks, and a rescan changes nothing; a submodule that cannot be fetched stays a
//! `git-submodule` project with the reason. A hostile repository cannot make a scan fan out (4^8
//! self-references are fetched once per commit and mounted up to the cap, which is reported) nor
//! wander (outside local mode, submodules on other hosts or schemes are refused with the reason).

mod common;

use std::fmt::Write as _;

use common::{add_repository, commit, context, git, scan, write};
use dashboard_scanner::{
    checkout::{Checkout, MAX_MOUNTS},
    detect::{Tree as _, detect},
    git::GitTree,
    remote::RemotePolicy,
};
use dashboard_shared::testing;
use sqlx::PgPool;

const CATEGORIES: usize = 6;
const SUBMODULES: usize = 38;

fn tasklist(name: &str, short: &str, tasks: usize) -> String {
    let mut text = format!("---\nname: {name}\nshort_name: {short}\n---\n## Work\n");
    for i in 1..=tasks {
        writeln!(text, "- [ ] TASK-{short}-{i} Step {i}").unwrap();
    }
    text
}

/// Records a gitlink for `commit` at `path` in the index of `dir` (what `git submodule add` does,
/// without cloning).
fn pin(dir: &std::path::Path, path: &str, commit: &str) {
    git(
        dir,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{commit},{path}"),
        ],
    );
}

/// Writes `.gitmodules` and commits the index as it is (`add -A` would drop the gitlinks, whose
/// directories are not checked out).
fn commit_gitmodules(dir: &std::path::Path, gitmodules: &str) {
    write(dir, ".gitmodules", gitmodules.as_bytes());
    git(dir, &["add", ".gitmodules"]);
    git(dir, &["commit", "-q", "-m", "submodules"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_master_repository_of_38_submodules_is_45_projects(admin: PgPool) {
    let origin = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    let master = origin.path().join("master");
    std::fs::create_dir_all(&master).unwrap();
    git(&master, &["init", "-q"]);
    write(
        &master,
        "tasklist.md",
        tasklist("Master", "M", 1).as_bytes(),
    );
    let mut gitmodules = String::new();
    for c in 1..=CATEGORIES {
        write(
            &master,
            &format!("cat-{c}/tasklist.md"),
            tasklist(&format!("Category {c}"), &format!("C{c}"), 1).as_bytes(),
        );
    }
    git(&master, &["add", "-A"]);
    for s in 1..=SUBMODULES {
        let sub = origin.path().join(format!("sub-{s}"));
        std::fs::create_dir_all(&sub).unwrap();
        git(&sub, &["init", "-q"]);
        write(
            &sub,
            "package.json",
            format!(r#"{{"name": "@coditect/sub-{s}", "version": "1.0.{s}"}}"#).as_bytes(),
        );
        git(&sub, &["add", "package.json"]);
        let pinned = commit(
            &sub,
            "tasklist.md",
            &tasklist(&format!("Sub {s}"), &format!("S{s}"), 2),
            "plan",
        );
        let path = format!("cat-{}/sub-{s}", s % CATEGORIES + 1);
        // Relative URLs resolve against the master's URL, as git does.
        writeln!(
            gitmodules,
            "[submodule \"sub-{s}\"]\n\tpath = {path}\n\turl = ../sub-{s}"
        )
        .unwrap();
        pin(&master, &path, &pinned);
    }
    commit_gitmodules(&master, &gitmodules);

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, master.to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());
    assert_eq!(scan(&ctx, tenant, repository).await, 1);

    // (path, types, name, parent's path, task count)
    type ProjectRow = (String, Vec<String>, Option<String>, Option<String>, i32);
    let projects: Vec<ProjectRow> = sqlx::query_as(
        "select p.path, p.types, p.name, parent.path, p.task_count from app.projects p
             left join app.projects parent on parent.id = p.parent_id
             where p.removed_at is null order by p.path",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(projects.len(), 1 + CATEGORIES + SUBMODULES, "{projects:#?}");
    assert_eq!(
        projects[0],
        (
            "".into(),
            vec!["tasklist".into()],
            Some("Master".into()),
            None,
            1
        )
    );
    for (path, types, name, parent, tasks) in &projects[1..] {
        let segments: Vec<&str> = path.split('/').collect();
        match segments[..] {
            [category] => {
                assert_eq!(parent.as_deref(), Some(""), "{category}");
                assert_eq!(types, &["tasklist"], "{path}");
            }
            [category, sub] => {
                assert_eq!(parent.as_deref(), Some(category), "{path}");
                assert_eq!(
                    types,
                    &["npm", "tasklist"],
                    "{path}: one project, two ecosystems"
                );
                let number = sub.trim_start_matches("sub-");
                assert_eq!(
                    name.as_deref(),
                    Some(format!("@coditect/sub-{number}").as_str()),
                    "named by its package.json"
                );
                assert_eq!(*tasks, 2, "{path}: its task list's tasks are its own");
            }
            _ => panic!("unexpected project {path}"),
        }
    }
    let all: i64 = sqlx::query_scalar("select count(*) from app.projects")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(all, 45, "no second row for any directory");
    let tasks: i64 = sqlx::query_scalar("select count(*) from app.tasks where removed_at is null")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(tasks, (1 + CATEGORIES + 2 * SUBMODULES) as i64);
    let (count, done): (i32, i32) = sqlx::query_as(
        "select task_count, tasks_done from app.projects where path = 'cat-2/sub-1'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!((count, done), (2, 0));
    assert!(
        mirrors
            .path()
            .join(tenant.to_string())
            .join("modules")
            .read_dir()
            .unwrap()
            .count()
            == SUBMODULES,
        "each submodule has its own mirror"
    );

    // A rescan of an unchanged master stores nothing new, and a full scan of the same tree
    // neither: no project is added, removed or changed.
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    sqlx::query("update app.repositories set last_synced_commit = null")
        .execute(&admin)
        .await
        .unwrap();
    let updated: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select updated_at from app.projects order by path")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    let after: Vec<(chrono::DateTime<chrono::Utc>, bool)> =
        sqlx::query_as("select updated_at, removed_at is null from app.projects order by path")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        after,
        updated.into_iter().map(|u| (u, true)).collect::<Vec<_>>(),
        "a full rescan of the same tree changes no project"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_submodule_that_cannot_be_fetched_is_reported_on_its_project(admin: PgPool) {
    let origin = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    let master = origin.path().join("master");
    std::fs::create_dir_all(&master).unwrap();
    git(&master, &["init", "-q"]);
    write(&master, "package.json", br#"{"name": "app"}"#);
    git(&master, &["add", "-A"]);
    let pinned = "0123456789abcdef0123456789abcdef01234567";
    pin(&master, "libs/gone", pinned);
    commit_gitmodules(
        &master,
        "[submodule \"gone\"]\n\tpath = libs/gone\n\turl = ../does-not-exist\n",
    );
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, master.to_str().unwrap()).await;
    assert_eq!(
        scan(&context(&admin, mirrors.path()), tenant, repository).await,
        1
    );
    let row: Vec<Option<String>> = sqlx::query_scalar(
        "select unnest(array[p.type, p.name, p.url, p.pinned_commit, parent.path]) from app.projects p
         left join app.projects parent on parent.id = p.parent_id where p.path = 'libs/gone'",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let expected = ["git-submodule", "gone", "../does-not-exist", pinned, ""];
    assert_eq!(row, expected.map(|v| Some(v.to_owned())));
    let problems: Vec<String> =
        sqlx::query_scalar("select problems from app.projects where path = 'libs/gone'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(
        problems[0].starts_with("submodule not scanned"),
        "{problems:?}"
    );
}

/// A repository whose commits 1 to 8 each pin the previous one 4 times, as submodules of itself:
/// 4^8 = 65,536 mounts if followed naively. Returns its directory and HEAD.
fn fan_out(root: &std::path::Path) -> (std::path::PathBuf, String) {
    let fan = root.join("fan");
    std::fs::create_dir_all(&fan).unwrap();
    git(&fan, &["init", "-q"]);
    let mut head = commit(&fan, "package.json", r#"{"name": "leaf"}"#, "leaf");
    let mut gitmodules = String::new();
    for s in 1..=4 {
        writeln!(
            gitmodules,
            "[submodule \"s{s}\"]\n\tpath = s{s}\n\turl = ../fan"
        )
        .unwrap();
    }
    for level in 1..=8 {
        for s in 1..=4 {
            pin(&fan, &format!("s{s}"), &head);
        }
        write(&fan, ".gitmodules", gitmodules.as_bytes());
        git(&fan, &["add", ".gitmodules"]);
        git(&fan, &["commit", "-q", "-m", &format!("level {level}")]);
        head = git(&fan, &["rev-parse", "HEAD"]);
    }
    (fan, head)
}

#[test]
fn a_fan_out_of_4_to_the_8th_fetches_each_commit_once_and_stops_at_the_mount_cap() {
    let origin = tempfile::tempdir().unwrap();
    let (fan, _) = fan_out(origin.path());
    let fetched = std::cell::RefCell::new(Vec::new());
    let fetch = |url: &str, _: &str, commit: &str| {
        fetched
            .borrow_mut()
            .push((url.to_owned(), commit.to_owned()));
        Ok(fan.clone())
    };
    let tree = GitTree::open(&fan, None).unwrap();
    let url = fan.to_str().unwrap();
    let checkout = Checkout::recursive(tree, url, RemotePolicy::Local, &fetch);
    let fetched = fetched.into_inner();
    assert_eq!(
        fetched.len(),
        8,
        "one fetch per (URL, commit): {fetched:#?}"
    );
    let mounted = checkout
        .paths()
        .iter()
        .filter(|p| p.ends_with("package.json"))
        .count();
    assert_eq!(mounted, 1 + MAX_MOUNTS, "the root's and one per mount");
    let mut projects = detect(&checkout);
    checkout.report(&mut projects);
    let capped = projects
        .iter()
        .filter(|p| {
            p.problems
                .iter()
                .any(|m| m.contains("the scan's cap of 256 submodules was reached"))
        })
        .count();
    assert!(capped > 0, "the cap is reported on the submodules left out");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_scan_job_on_a_4_to_the_8th_fan_out_stores_the_capped_tree(admin: PgPool) {
    let origin = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    let (fan, head) = fan_out(origin.path());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    // A plan that stores every project: the submodule cap is what bounds this scan.
    sqlx::query("update app.tenants set max_projects = 10000 where id = $1")
        .bind(tenant)
        .execute(&admin)
        .await
        .unwrap();
    let repository = add_repository(&admin, tenant, fan.to_str().unwrap()).await;
    assert_eq!(
        scan(&context(&admin, mirrors.path()), tenant, repository).await,
        1
    );
    let (npm, capped): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where type = 'npm'),
                count(*) filter (where problems::text like '%cap of 256 submodules%')
         from app.projects where removed_at is null",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(npm, 1 + MAX_MOUNTS as i64);
    assert!(capped > 0);
    let synced: String = sqlx::query_scalar("select last_synced_commit from app.repositories")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(synced, head);
}

#[test]
fn the_hosted_scanner_refuses_file_git_loopback_and_foreign_host_submodules() {
    let origin = tempfile::tempdir().unwrap();
    let lib = origin.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "-q"]);
    let pinned = commit(&lib, "package.json", r#"{"name": "lib"}"#, "lib");
    let master = origin.path().join("master");
    std::fs::create_dir_all(&master).unwrap();
    git(&master, &["init", "-q"]);
    write(&master, "package.json", br#"{"name": "app"}"#);
    git(&master, &["add", "-A"]);
    let modules = [
        ("file", "file:///srv/git/lib.git"),
        ("daemon", "git://git.example.com/acme/lib.git"),
        ("loopback", "https://127.0.0.1/acme/lib.git"),
        ("foreign", "https://evil.example.net/acme/lib.git"),
        ("token", "https://ghp_secret@git.example.com/acme/lib.git"),
        ("sibling", "../lib.git"),
    ];
    let mut gitmodules = String::new();
    for (name, url) in modules {
        writeln!(
            gitmodules,
            "[submodule \"{name}\"]\n\tpath = {name}\n\turl = {url}"
        )
        .unwrap();
        pin(&master, name, &pinned);
    }
    commit_gitmodules(&master, &gitmodules);
    let fetched = std::cell::RefCell::new(Vec::new());
    let fetch = |url: &str, _: &str, _: &str| {
        fetched.borrow_mut().push(url.to_owned());
        Ok(lib.clone())
    };
    let tree = GitTree::open(&master, None).unwrap();
    let url = "https://git.example.com/acme/master.git";
    let checkout = Checkout::recursive(tree, url, RemotePolicy::Hosted, &fetch);
    assert_eq!(
        fetched.into_inner(),
        ["https://git.example.com/acme/lib.git"],
        "only the submodule on the repository's own origin is fetched"
    );
    let mut projects = detect(&checkout);
    checkout.report(&mut projects);
    let problem = |path: &str| -> String {
        let project = projects
            .iter()
            .find(|p| p.path == path && p.kind == "git-submodule")
            .unwrap_or_else(|| panic!("{path} stays a git-submodule: {projects:#?}"));
        project.problems.join("; ")
    };
    let local_only = "remotes are only allowed in local mode (dashboard up, scan, repo)";
    assert_eq!(
        problem("file"),
        format!("submodule not fetched: local paths and file:// {local_only}")
    );
    assert_eq!(
        problem("daemon"),
        format!("submodule not fetched: git:// {local_only}")
    );
    assert_eq!(
        problem("loopback"),
        "submodule not fetched: refusing 127.0.0.1: a loopback address"
    );
    assert_eq!(
        problem("foreign"),
        "submodule not fetched: https://evil.example.net is not the repository's own host, https://git.example.com"
    );
    assert!(problem("token").contains("user information"));
    assert!(!problem("token").contains("ghp_secret"));
    assert!(
        projects
            .iter()
            .any(|p| p.path == "sibling" && p.kind == "npm"),
        "the sibling on the same host is mounted"
    );
}
