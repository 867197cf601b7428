//! Polling a plain git remote end to end, through a real network transport (`git http-backend`
//! behind Basic authentication with the repository's stored token): the first poll ingests the
//! history, detects the default branch and scans; a new `Fixes TASK-DEMO-1` commit is stored, linked
//! explicit/closes and closes its task one poll later; polling again changes nothing; branches
//! (named after a task), forced pushes and deleted branches are followed; a refused token fails the
//! poll without showing the token.

mod common;

use common::{commit, git, git_http::GitHttp};
use dashboard_linker::LinkerContext;
use dashboard_shared::{
    TenantId,
    crypto::{SecretBox, git_credential_context},
    jobs::{self, Transport, kinds::PollRepository},
    testing,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const KEY: [u8; 32] = [7; 32];
const TOKEN: &str = "glpat-pollingToken0123456789";

struct Setup {
    admin: PgPool,
    tenant: TenantId,
    scanner: dashboard_scanner::ScannerContext,
    linker: LinkerContext,
    work: tempfile::TempDir,
    served: tempfile::TempDir,
    _mirrors: tempfile::TempDir,
}

impl Setup {
    async fn new(admin: PgPool) -> Self {
        let work = tempfile::tempdir().unwrap();
        let served = tempfile::tempdir().unwrap();
        let mirrors = tempfile::tempdir().unwrap();
        git(work.path(), &["init", "-q"]);
        common::write(
            work.path(),
            "package.json",
            br#"{"name": "demo-app", "version": "1.0.0"}"#,
        );
        commit(
            work.path(),
            "tasklist.md",
            "# Demo\n- [ ] TASK-DEMO-1 Sign-up form validation\n- [ ] TASK-DEMO-2 Password reset emails\n",
            "Start the demo app",
        );
        let bare = GitHttp::publish(served.path(), work.path(), "demo.git");
        git(
            work.path(),
            &["remote", "add", "origin", bare.to_str().unwrap()],
        );
        let tenant = testing::create_tenant(&admin, "tenant-a").await;
        let mut scanner = common::context(&admin, mirrors.path());
        scanner.secrets = Some(SecretBox::from_key(&KEY));
        let linker = LinkerContext {
            db: scanner.db.clone(),
            transport: Transport::Postgres(scanner.db.clone()),
            github: None,
            semantic: None,
        };
        Self {
            admin,
            tenant,
            scanner,
            linker,
            work,
            served,
            _mirrors: mirrors,
        }
    }

    /// A `git` repository at `url` whose stored credential is `token`.
    async fn connect(&self, url: &str, token: &str) -> Uuid {
        let id: Uuid = sqlx::query_scalar(
            "insert into app.repositories (tenant_id, provider, full_name, clone_url)
             values ($1, 'git', 'demo', $2) returning id",
        )
        .bind(self.tenant)
        .bind(url)
        .fetch_one(&self.admin)
        .await
        .unwrap();
        let sealed = SecretBox::from_key(&KEY).seal(
            token.as_bytes(),
            &git_credential_context(self.tenant.as_uuid(), id),
        );
        sqlx::query(
            "update app.repositories set credential_kind = 'token', credential_username = 'oauth2',
               credential_encrypted = $2 where id = $1",
        )
        .bind(id)
        .bind(sealed)
        .execute(&self.admin)
        .await
        .unwrap();
        id
    }

    /// Enqueues a poll and runs both queues until they are empty.
    async fn poll(&self, repository: Uuid) {
        let mut tx = self.scanner.db.tenant(self.tenant).await.unwrap();
        jobs::enqueue(&mut tx, &PollRepository { repository })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let scanner = dashboard_scanner::worker(self.scanner.clone());
        let linker = dashboard_linker::worker(self.linker.clone());
        while scanner.drain().await.unwrap() + linker.drain().await.unwrap() > 0 {}
    }

    fn push(&self, args: &[&str]) {
        git(
            self.work.path(),
            &[&["push", "-q", "origin"], args].concat(),
        );
    }

    /// Every link: commit message's first line, task key, method, relation, updated_at.
    async fn links(&self) -> Vec<(String, String, String, String, String)> {
        sqlx::query_as(
            "select split_part(c.message, E'\\n', 1), t.external_key, l.method, l.relation, l.updated_at::text
             from app.commit_task_links l join app.commits c on c.id = l.commit_id join app.tasks t on t.id = l.task_id
             where l.state = 'active' order by 1, 2",
        )
        .fetch_all(&self.admin)
        .await
        .unwrap()
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }

    async fn status(&self, key: &str) -> String {
        sqlx::query_scalar("select status from app.tasks where external_key = $1")
            .bind(key)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_polled_git_remote_is_ingested_linked_and_followed(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    let server = GitHttp::new(setup.served.path(), "oauth2", TOKEN);
    let base = server.serve().await;
    let repository = setup.connect(&format!("{base}/demo.git"), TOKEN).await;

    // Connected: the history, the default branch from the remote's HEAD, a scan.
    setup.poll(repository).await;
    let (branch, heads): (Option<String>, Value) =
        sqlx::query_as("select default_branch, branch_heads from app.repositories where id = $1")
            .bind(repository)
            .fetch_one(&admin)
            .await
            .unwrap();
    let head = git(setup.work.path(), &["rev-parse", "HEAD"]);
    assert_eq!(branch.as_deref(), Some("main"));
    assert_eq!(heads, json!({ "main": head }));
    assert_eq!(setup.count("select count(*) from app.commits").await, 1);
    assert_eq!(
        setup
            .count("select count(*) from app.tasks where removed_at is null")
            .await,
        2,
        "scanned"
    );
    let (unauthorized, authorized) = server.requests();
    assert!(
        unauthorized >= 1 && authorized >= 2,
        "{unauthorized} {authorized}"
    );

    // One commit that fixes a task, one poll.
    commit(
        setup.work.path(),
        "src/signup.js",
        "export const validate = () => true;\n",
        "Fixes TASK-DEMO-1: validate the sign-up form",
    );
    setup.push(&["main"]);
    setup.poll(repository).await;
    let paths: Vec<String> = sqlx::query_scalar(
        "select unnest(changed_paths) from app.commits where message like 'Fixes%'",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(paths, ["src/signup.js"]);
    let links = setup.links().await;
    let summary: Vec<(&str, &str, &str, &str)> = links
        .iter()
        .map(|(c, t, m, r, _)| (c.as_str(), t.as_str(), m.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        summary,
        [(
            "Fixes TASK-DEMO-1: validate the sign-up form",
            "TASK-DEMO-1",
            "explicit",
            "closes"
        )]
    );
    assert_eq!(setup.status("TASK-DEMO-1").await, "done");
    assert_eq!(setup.status("TASK-DEMO-2").await, "open");

    // Polling again: nothing new, nothing written, nothing enqueued but the poll.
    let jobs_before = setup.count("select count(*) from app.jobs").await;
    let task_rows = setup
        .count("select count(*) from app.tasks where updated_at > now() - interval '1 hour'")
        .await;
    setup.poll(repository).await;
    assert_eq!(setup.links().await, links);
    assert_eq!(setup.count("select count(*) from app.commits").await, 2);
    assert_eq!(
        setup.count("select count(*) from app.jobs").await,
        jobs_before + 1
    );
    assert_eq!(
        setup
            .count("select count(*) from app.tasks where updated_at > now() - interval '1 hour'")
            .await,
        task_rows
    );

    // A branch named after a task; then main is rewritten and the branch deleted.
    git(
        setup.work.path(),
        &["checkout", "-q", "-b", "task-demo-2-reset"],
    );
    commit(
        setup.work.path(),
        "src/reset.js",
        "export const reset = () => {};\n",
        "Send the reset link",
    );
    setup.push(&["task-demo-2-reset"]);
    setup.poll(repository).await;
    let branch_links: Vec<(String, String, String, String, String)> = setup
        .links()
        .await
        .into_iter()
        .filter(|l| l.0 == "Send the reset link")
        .collect();
    assert_eq!(
        (branch_links[0].1.as_str(), branch_links[0].3.as_str()),
        ("TASK-DEMO-2", "references")
    );
    assert_eq!(setup.status("TASK-DEMO-2").await, "open");

    git(setup.work.path(), &["checkout", "-q", "main"]);
    git(
        setup.work.path(),
        &[
            "commit",
            "-q",
            "--amend",
            "-m",
            "Fixes TASK-DEMO-1: validate the sign-up form (v2)",
        ],
    );
    setup.push(&["--force", "main"]);
    setup.push(&["--delete", "task-demo-2-reset"]);
    setup.poll(repository).await;
    let heads: Value =
        sqlx::query_scalar("select branch_heads from app.repositories where id = $1")
            .bind(repository)
            .fetch_one(&admin)
            .await
            .unwrap();
    let rewritten = git(setup.work.path(), &["rev-parse", "HEAD"]);
    assert_eq!(
        heads,
        json!({ "main": rewritten }),
        "the deleted branch is gone"
    );
    assert_eq!(
        setup.count("select count(*) from app.commits").await,
        4,
        "the rewritten commit is new; nothing else is ingested again"
    );

    // A refused token: the poll fails, and says why without the token.
    let refused = setup
        .connect(
            &format!("{base}/demo.git?wrong"),
            "glpat-wrongToken987654321",
        )
        .await;
    setup.poll(refused).await;
    let (status, error): (String, Option<String>) = sqlx::query_as(
        "select status, last_error from app.jobs where kind = 'poll_repository' and payload->>'repository' = $1",
    )
    .bind(refused.to_string())
    .fetch_one(&admin)
    .await
    .unwrap();
    let error = error.unwrap();
    assert_eq!(status, "queued", "retried later: {error}");
    assert!(!error.contains("glpat-"), "{error}");

    // The scheduler: the repository polled a moment ago is not due, nor is the one whose poll waits
    // for its retry; once its interval has passed, it is.
    let transport = Transport::Postgres(setup.scanner.db.clone());
    let due = || dashboard_scanner::schedule::enqueue_due(&setup.scanner.db, &transport);
    assert_eq!(due().await.unwrap(), 0);
    sqlx::query(
        "update app.repositories set last_polled_at = now() - interval '6 minutes' where id = $1",
    )
    .bind(repository)
    .execute(&admin)
    .await
    .unwrap();
    assert_eq!(due().await.unwrap(), 1);
    assert_eq!(due().await.unwrap(), 0, "enqueued once");

    // The daily resync: a poll for every git repository that has none waiting, a scan for GitHub's.
    testing::create_installation(&admin, setup.tenant, 7).await;
    sqlx::query(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url)
         values ($1, 'github', 42, 7, 'acme/widgets', 'https://github.com/acme/widgets.git')",
    )
    .bind(setup.tenant)
    .execute(&admin)
    .await
    .unwrap();
    let resync = dashboard_scanner::schedule::enqueue_resync(&setup.scanner.db, &transport)
        .await
        .unwrap();
    assert_eq!(
        resync, 1,
        "only the GitHub repository's scan: both polls are already waiting"
    );
    let kinds: Vec<(String, String)> = sqlx::query_as(
        "select kind, coalesce(payload->>'reason', '') from app.jobs where status = 'queued' order by kind",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        kinds,
        [
            ("poll_repository".into(), "".into()),
            ("poll_repository".into(), "".into()),
            ("scan_repository".into(), "resync".into())
        ]
    );
}

/// Writes a commit object as given (git itself refuses a NUL in a message it is handed) on top of
/// `dir`'s HEAD and moves the current branch to it.
fn commit_raw(dir: &std::path::Path, author: &str, message: &str) -> String {
    use std::{io::Write as _, process::Command, process::Stdio};
    let tree = git(dir, &["rev-parse", "HEAD^{tree}"]);
    let parent = git(dir, &["rev-parse", "HEAD"]);
    let object = format!(
        "tree {tree}\nparent {parent}\nauthor {author} 1700000000 +0000\ncommitter {author} 1700000000 +0000\n\n{message}\n"
    );
    let mut hash = Command::new("git")
        .args([
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--literally",
            "--stdin",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hash.stdin
        .take()
        .unwrap()
        .write_all(object.as_bytes())
        .unwrap();
    let output = hash.wait_with_output().unwrap();
    assert!(output.status.success());
    let sha = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    git(dir, &["update-ref", "HEAD", &sha]);
    sha
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_commit_with_nul_characters_is_stored_without_them_and_linked(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    let server = GitHttp::new(setup.served.path(), "oauth2", TOKEN);
    let base = server.serve().await;
    let repository = setup.connect(&format!("{base}/demo.git"), TOKEN).await;
    setup.poll(repository).await;

    // PostgreSQL refuses NUL in text (22021): this commit used to fail its whole batch, every poll.
    let sha = commit_raw(
        setup.work.path(),
        "Jane\0 Doe <jane@example.com>",
        "Fixes TASK-DEMO-1: validate\0 the sign-up form",
    );
    setup.push(&["main"]);
    setup.poll(repository).await;

    let (message, author): (String, String) =
        sqlx::query_as("select message, author_name from app.commits where sha = $1")
            .bind(&sha)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(
        message.trim_end(),
        "Fixes TASK-DEMO-1: validate the sign-up form"
    );
    assert_eq!(author, "Jane Doe");
    let links = setup.links().await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(
        (
            links[0].1.as_str(),
            links[0].2.as_str(),
            links[0].3.as_str()
        ),
        ("TASK-DEMO-1", "explicit", "closes")
    );
    assert_eq!(setup.status("TASK-DEMO-1").await, "done");
    let failed = setup
        .count("select count(*) from app.jobs where status <> 'done'")
        .await;
    assert_eq!(failed, 0, "no job failed");
}
