//! Repositories of submodules, scanned recursively by the scan job: a master repository laid out
//! like the original plan (6 category directories, 38 submodules, a `tasklist.md` in each) becomes
//! exactly 45 projects with their hierarchy and tasks; a submodule that cannot be fetched stays a
//! `git-submodule` project with the reason.

mod common;

use std::fmt::Write as _;

use common::{add_repository, commit, context, git, scan, write};
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

    let projects: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "select p.path, p.type, p.name, parent.path from app.projects p
         left join app.projects parent on parent.id = p.parent_id
         where p.removed_at is null order by p.path",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(projects.len(), 1 + CATEGORIES + SUBMODULES, "{projects:#?}");
    assert!(projects.iter().all(|(_, kind, _, _)| kind == "tasklist"));
    assert_eq!(
        projects[0],
        ("".into(), "tasklist".into(), Some("Master".into()), None)
    );
    for (path, _, name, parent) in &projects[1..] {
        let segments: Vec<&str> = path.split('/').collect();
        match segments[..] {
            [category] => assert_eq!(parent.as_deref(), Some(""), "{category}"),
            [category, sub] => {
                assert_eq!(parent.as_deref(), Some(category), "{path}");
                let number = sub.trim_start_matches("sub-");
                assert_eq!(name.as_deref(), Some(format!("Sub {number}").as_str()));
            }
            _ => panic!("unexpected project {path}"),
        }
    }
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
