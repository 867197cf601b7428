//! Rescans after pushes: a push touching no manifest changes only the TODO/FIXME counts of the files
//! it touched (no detection), one touching a manifest detects again, and nothing new is nothing to
//! do. Counts after any number of incremental rescans equal a full scan's.

mod common;

use common::{add_repository, commit, context, git, scan};
use dashboard_scanner::{
    detect::detect,
    git::GitTree,
    incremental::{Rescan, plan},
};
use dashboard_shared::testing;
use gix::ObjectId;
use sqlx::PgPool;

fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.as_bytes()).unwrap()
}

#[test]
fn the_plan_follows_what_the_push_touched() {
    let origin = tempfile::tempdir().unwrap();
    let dir = origin.path();
    git(dir, &["init", "-q"]);
    commit(dir, "Cargo.toml", "[package]\nname = \"app\"\n", "app");
    let first = commit(dir, "src/main.rs", "// TODO one\n// FIXME two\n", "code");
    let code = commit(
        dir,
        "src/main.rs",
        "// TODO one\n// TODO three\nfn main() {}\n",
        "more code",
    );
    let added = commit(dir, "src/util.rs", "// FIXME four\n// FIXME five\n", "util");
    let manifest = commit(dir, "lib/Cargo.toml", "[package]\nname = \"lib\"\n", "lib");
    let repo = gix::open(dir).unwrap();

    assert_eq!(
        plan(&repo, Some(&code), id(&code)).unwrap(),
        Rescan::Unchanged
    );
    assert_eq!(
        plan(&repo, Some(&first), id(&code)).unwrap(),
        Rescan::Counts(vec![("src/main.rs".into(), 1, -1)])
    );
    assert_eq!(
        plan(&repo, Some(&code), id(&added)).unwrap(),
        Rescan::Counts(vec![("src/util.rs".into(), 0, 2)])
    );
    assert_eq!(
        plan(&repo, Some(&added), id(&manifest)).unwrap(),
        Rescan::Full
    );
    assert_eq!(plan(&repo, None, id(&manifest)).unwrap(), Rescan::Full);
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        plan(&repo, Some(unknown), id(&manifest)).unwrap(),
        Rescan::Full,
        "a commit the mirror lost (a forced push) means a full scan"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn incremental_counts_match_a_full_scan(admin: PgPool) {
    let origin = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    let dir = origin.path();
    git(dir, &["init", "-q"]);
    commit(
        dir,
        "Cargo.toml",
        "[workspace]\nmembers = [\"core\"]\n",
        "ws",
    );
    commit(
        dir,
        "core/Cargo.toml",
        "[package]\nname = \"core\"\nversion = \"1.0.0\"\n",
        "core",
    );
    commit(dir, "core/src/lib.rs", "// TODO a\n", "lib");
    commit(dir, "README.md", "FIXME: write this\n", "readme");
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = add_repository(&admin, tenant, dir.to_str().unwrap()).await;
    let ctx = context(&admin, mirrors.path());
    assert_eq!(scan(&ctx, tenant, repository).await, 1);

    let counts = || async {
        let rows: Vec<(String, i32, i32)> = sqlx::query_as(
            "select path, todo_count, fixme_count from app.projects where removed_at is null order by path",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        rows
    };
    let full_scan = || {
        let tree = GitTree::open(dir, None).unwrap();
        detect(&tree)
            .into_iter()
            .map(|p| (p.path, p.todo_count as i32, p.fixme_count as i32))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts().await, [("".into(), 0, 1), ("core".into(), 1, 0)]);
    let updated_at = || async {
        let at: Vec<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("select updated_at from app.projects order by path")
                .fetch_all(&admin)
                .await
                .unwrap();
        at
    };
    let before = updated_at().await;

    // Code only: counts move, nothing is detected again.
    commit(
        dir,
        "core/src/lib.rs",
        "// TODO a\n// TODO b\n// FIXME c\n",
        "work",
    );
    commit(dir, "README.md", "Done.\n", "docs");
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    assert_eq!(counts().await, [("".into(), 0, 0), ("core".into(), 2, 1)]);
    assert_eq!(counts().await, full_scan());
    assert_eq!(updated_at().await, before, "no project was rewritten");

    // A new manifest: detected, and the files under it count for it now.
    commit(
        dir,
        "core/cli/Cargo.toml",
        "[package]\nname = \"cli\"\n",
        "cli",
    );
    commit(dir, "core/cli/main.rs", "// TODO cli\n", "cli code");
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    assert_eq!(
        counts().await,
        [
            ("".into(), 0, 0),
            ("core".into(), 2, 1),
            ("core/cli".into(), 1, 0)
        ]
    );
    assert_eq!(counts().await, full_scan());

    // Nothing new: the job runs and changes nothing.
    let head = git(dir, &["rev-parse", "HEAD"]);
    assert_eq!(scan(&ctx, tenant, repository).await, 1);
    let scanned: String = sqlx::query_scalar("select last_synced_commit from app.repositories")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(scanned, head);
}
