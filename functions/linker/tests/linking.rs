//! Linking end to end on real PostgreSQL: a real push payload (GitHub's fixture, its commits replaced
//! by ours) is ingested and linked by the worker. Commits that reference, close and merely resemble
//! tasks end with the right links, methods and confidences; a closing reference on the default branch
//! closes its task; replaying the jobs or relinking changes nothing; a link a person removed stays
//! removed and a manual one stays manual.

use std::{path::PathBuf, sync::Arc};

use dashboard_linker::{
    LinkerContext,
    semantic::{MODEL_DIR_VAR, Model},
    worker,
};
use dashboard_shared::{
    Db, TenantId,
    jobs::{
        self, Transport,
        kinds::{IngestIssue, IngestPush, RelinkOrganization, RelinkRepository},
    },
    links, testing,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const PUSH: &str = include_str!("data/push.payload.json");

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}

/// The fixture with `commits` as its commits, pushed to `branch`.
fn push(branch: &str, commits: &[(u8, &str)]) -> Vec<u8> {
    let mut payload: Value = serde_json::from_str(PUSH).unwrap();
    let template = payload["commits"][0].clone();
    payload["ref"] = json!(format!("refs/heads/{branch}"));
    payload["commits"] = commits
        .iter()
        .map(|(n, message)| {
            let mut commit = template.clone();
            commit["id"] = json!(sha(*n));
            commit["message"] = json!(message);
            commit["timestamp"] = json!(format!("2019-05-15T15:{n:02}:00Z"));
            commit
        })
        .collect();
    payload["after"] = json!(sha(commits.last().unwrap().0));
    serde_json::to_vec(&payload).unwrap()
}

struct Setup {
    admin: PgPool,
    db: Db,
    tenant: TenantId,
    repository: Uuid,
}

impl Setup {
    async fn new(admin: PgPool) -> Self {
        let tenant = testing::create_tenant(&admin, "tenant-a").await;
        let repository: Uuid = sqlx::query_scalar(
            "insert into app.repositories (tenant_id, provider, provider_repo_id, full_name, clone_url, default_branch)
             values ($1, 'github', 186853002, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 'master')
             returning id",
        )
        .bind(tenant)
        .fetch_one(&admin)
        .await
        .unwrap();
        let tasks = [
            ("tasklist", "TASK-AUTH-12", "Sign in with Google", None),
            ("tasklist", "TASK-AUTH-13", "Password reset emails", None),
            (
                "github_issue",
                "7",
                "Crash when uploading large avatar images",
                None,
            ),
            ("github_issue", "8", "Dark mode for the settings page", None),
            (
                "github_issue",
                "9",
                "Rate limiting for the public API",
                Some("2019-01-01T00:00:00Z"),
            ),
        ];
        for (source, key, title, closed) in tasks {
            sqlx::query(
                "insert into app.tasks (tenant_id, repository_id, source, external_key, title, created_at, closed_at, status)
                 values ($1, $2, $3, $4, $5, '2019-05-01T00:00:00Z', $6::timestamptz, case when $6 is null then 'open' else 'done' end)",
            )
            .bind(tenant)
            .bind(repository)
            .bind(source)
            .bind(key)
            .bind(title)
            .bind(closed)
            .execute(&admin)
            .await
            .unwrap();
        }
        Self {
            db: testing::runtime_db(&admin),
            admin,
            tenant,
            repository,
        }
    }

    fn worker(&self) -> dashboard_shared::jobs::Worker<LinkerContext> {
        self.worker_with(None)
    }

    /// A worker that links by meaning too with `semantic`.
    fn worker_with(
        &self,
        semantic: Option<Arc<Model>>,
    ) -> dashboard_shared::jobs::Worker<LinkerContext> {
        worker(LinkerContext {
            db: self.db.clone(),
            transport: Transport::Postgres(self.db.clone()),
            github: None,
            semantic,
        })
    }

    /// Stores a delivery of `body` and runs the link queue until it is empty.
    async fn deliver(&self, id: &str, body: Vec<u8>) -> Uuid {
        let delivery: Uuid = sqlx::query_scalar(
            "insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body) values ($1, 1, $2, 'push', $3) returning id",
        )
        .bind(self.tenant)
        .bind(id)
        .bind(body)
        .fetch_one(&self.admin)
        .await
        .unwrap();
        self.ingest(delivery).await;
        delivery
    }

    async fn ingest(&self, delivery: Uuid) {
        let mut tx = self.db.tenant(self.tenant).await.unwrap();
        jobs::enqueue(
            &mut tx,
            &IngestPush {
                delivery,
                repository: self.repository,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        self.worker().drain().await.unwrap();
    }

    /// Every link: commit number, task key, method, relation, state, confidence, evidence, updated_at.
    async fn links(&self) -> Vec<(String, String, String, String, String, f32, Value, String)> {
        sqlx::query_as(
            "select substr(c.sha, 1, 2), t.external_key, l.method, l.relation, l.state, l.confidence, l.evidence, l.updated_at::text
             from app.commit_task_links l join app.commits c on c.id = l.commit_id join app.tasks t on t.id = l.task_id
             order by 1, 2",
        )
        .fetch_all(&self.admin)
        .await
        .unwrap()
    }

    async fn commit(&self, n: u8) -> Uuid {
        sqlx::query_scalar("select id from app.commits where sha = $1")
            .bind(sha(n))
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }

    async fn task(&self, key: &str) -> Uuid {
        sqlx::query_scalar("select id from app.tasks where external_key = $1")
            .bind(key)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_push_ends_with_the_right_links(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    let delivery = setup
        .deliver(
            "d1",
            push(
                "master",
                &[
                    (1, "Fixes TASK-AUTH-12: add the Google sign-in button"),
                    (2, "Refs #8 and TASK-AUTH-13\n\n```\nFixes #7\n```"),
                    (3, "Handle large avatar image uploads without crashing"),
                    (4, "Tune rate limiting of the public API"),
                    (5, "Update dependencies"),
                    (6, "Closes ABC-123 and UTF-8 cleanup"),
                ],
            ),
        )
        .await;
    let links = setup.links().await;
    let summary: Vec<(&str, &str, &str, &str, &str)> = links
        .iter()
        .map(|(c, t, m, r, s, _, _, _)| {
            (c.as_str(), t.as_str(), m.as_str(), r.as_str(), s.as_str())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("01", "TASK-AUTH-12", "explicit", "closes", "active"),
            ("02", "8", "explicit", "references", "active"),
            ("02", "TASK-AUTH-13", "explicit", "references", "active"),
            ("03", "7", "similarity", "references", "active"),
        ],
        "commit 4 resembles a task closed months before; 5 resembles nothing; 6 names unknown keys"
    );
    for (commit, _, method, _, _, confidence, evidence, _) in &links {
        if method == "explicit" {
            assert_eq!(*confidence, 1.0);
        } else {
            assert!(
                *confidence > 0.3 && *confidence < 1.0,
                "{commit}: {confidence}"
            );
            let terms: Vec<&str> = evidence["terms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(terms.contains(&"avatar"), "{evidence}");
        }
    }
    let status: Vec<(String, String)> =
        sqlx::query_as("select external_key, status from app.tasks order by external_key")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        status,
        [
            ("7".into(), "open".into()),
            ("8".into(), "open".into()),
            ("9".into(), "done".into()),
            ("TASK-AUTH-12".into(), "done".into()),
            ("TASK-AUTH-13".into(), "open".into())
        ],
        "the closing reference reached the default branch"
    );

    // Replaying the delivery, and relinking the repository, change nothing.
    setup.ingest(delivery).await;
    let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
    let relink = jobs::enqueue(&mut tx, &RelinkOrganization {})
        .await
        .unwrap();
    assert!(relink.is_some());
    tx.commit().await.unwrap();
    setup.worker().drain().await.unwrap();
    assert_eq!(setup.links().await, links);
    let dead: i64 = sqlx::query_scalar("select count(*) from app.jobs where status <> 'done'")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(dead, 0);

    // A person removes the similarity link and links commit 5 by hand: relinking keeps both.
    let (c3, c5, issue7, issue8) = (
        setup.commit(3).await,
        setup.commit(5).await,
        setup.task("7").await,
        setup.task("8").await,
    );
    let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
    // Named as a person names them: `#7`, `8`, a task-list id; nothing for what does not exist.
    for (name, expected) in [
        ("#7", Some(issue7)),
        ("8", Some(issue8)),
        ("TASK-AUTH-12", Some(setup.task("TASK-AUTH-12").await)),
        ("#70", None),
        ("TASK-AUTH-99", None),
        ("AUTH-12", None),
    ] {
        let found = links::find_named_task(&mut tx, setup.repository, name)
            .await
            .unwrap();
        assert_eq!(found, expected, "{name}");
    }
    // As `POST …/links` and `DELETE …/links/…` leave them (the API's tests drive those).
    let rejected = sqlx::query(
        "update commit_task_links set state = 'rejected' where commit_id = $1 and task_id = $2",
    )
    .bind(c3)
    .bind(issue7)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(rejected.rows_affected(), 1);
    sqlx::query(
        "insert into commit_task_links (commit_id, task_id, method, confidence, state)
         values ($1, $2, 'manual', 1, 'active')",
    )
    .bind(c5)
    .bind(issue8)
    .execute(&mut *tx)
    .await
    .unwrap();
    jobs::enqueue(
        &mut tx,
        &RelinkRepository {
            repository: setup.repository,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    setup.worker().drain().await.unwrap();
    let after: Vec<(String, String, String, String)> = setup
        .links()
        .await
        .into_iter()
        .filter(|(c, ..)| c == "03" || c == "05")
        .map(|(c, t, m, _, s, ..)| (c, t, m, s))
        .collect();
    assert_eq!(
        after,
        [
            (
                "03".into(),
                "7".into(),
                "similarity".into(),
                "rejected".into()
            ),
            ("05".into(), "8".into(), "manual".into(), "active".into())
        ]
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_branch_name_references_and_closing_waits_for_the_default_branch(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    let commits = [(21, "Send the reset email; fixes TASK-AUTH-12")];
    setup
        .deliver("f1", push("feature/task-auth-13-reset", &commits))
        .await;
    let summary: Vec<(String, String, String)> = setup
        .links()
        .await
        .into_iter()
        .map(|(_, t, m, r, ..)| (t, m, r))
        .collect();
    assert_eq!(
        summary,
        [
            ("TASK-AUTH-12".into(), "explicit".into(), "closes".into()),
            (
                "TASK-AUTH-13".into(),
                "explicit".into(),
                "references".into()
            )
        ]
    );
    let open: String =
        sqlx::query_scalar("select status from app.tasks where external_key = 'TASK-AUTH-12'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(open, "open", "not on the default branch yet");

    // The merge: the same commit reaches master and closes its task.
    setup.deliver("m1", push("master", &commits)).await;
    let done: String =
        sqlx::query_scalar("select status from app.tasks where external_key = 'TASK-AUTH-12'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(done, "done");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_merged_pull_request_links_what_its_title_and_body_reference(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    // The merge commit arrives first (GitHub sends both deliveries at once, in no fixed order).
    let merge = [(30, "Merge pull request #2 from Codertocat/changes")];
    setup.deliver("m2", push("master", &merge)).await;

    let mut pull_request: Value =
        serde_json::from_str(include_str!("data/pull_request.closed.payload.json")).unwrap();
    pull_request["pull_request"]["title"] = json!("Avatar uploads (TASK-AUTH-13)");
    pull_request["pull_request"]["body"] =
        json!("Fixes #7.\n\n```\nfixes #8 is only an example here\n```");
    pull_request["pull_request"]["merged_at"] = json!("2019-05-15T15:30:00Z");
    pull_request["pull_request"]["merge_commit_sha"] = json!(sha(30));
    let delivery: Uuid = sqlx::query_scalar(
        "insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body)
         values ($1, 1, 'pr2', 'pull_request', $2) returning id",
    )
    .bind(setup.tenant)
    .bind(serde_json::to_vec(&pull_request).unwrap())
    .fetch_one(&admin)
    .await
    .unwrap();
    let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
    jobs::enqueue(
        &mut tx,
        &IngestIssue {
            delivery,
            repository: setup.repository,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    setup.worker().drain().await.unwrap();

    let summary: Vec<(String, String, String, String)> = setup
        .links()
        .await
        .into_iter()
        .map(|(c, t, m, r, ..)| (c, t, m, r))
        .collect();
    let row =
        |task: &str, relation: &str| ("1e".into(), task.into(), "explicit".into(), relation.into());
    assert_eq!(
        summary,
        [
            row("2", "closes"),
            row("7", "closes"),
            row("TASK-AUTH-13", "references"),
        ],
        "the pull request itself, its closing reference, its title's mention; not the code block"
    );
    let statuses: Vec<(String, String)> = sqlx::query_as(
        "select external_key, status from app.tasks where external_key in ('7', '8', 'TASK-AUTH-13') order by 1",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        statuses,
        [
            ("7".into(), "done".into()),
            ("8".into(), "open".into()),
            ("TASK-AUTH-13".into(), "open".into())
        ],
        "merged into the default branch: #7 closes as on GitHub"
    );

    // Relinking again changes nothing.
    let before = setup.links().await;
    let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
    jobs::enqueue(&mut tx, &RelinkOrganization {})
        .await
        .unwrap();
    tx.commit().await.unwrap();
    setup.worker().drain().await.unwrap();
    assert_eq!(setup.links().await, before);
}

/// The model `scripts/test` installs.
fn model() -> Arc<Model> {
    let dir = std::env::var_os(MODEL_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{MODEL_DIR_VAR} must name the all-MiniLM-L6-v2 model (scripts/test installs it)"
            )
        });
    Arc::new(Model::load(&dir).expect("the model loads"))
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_commit_in_other_words_links_by_meaning(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    // One word in common with "Crash when uploading large avatar images": too little for words.
    setup
        .deliver(
            "d1",
            push(
                "master",
                &[
                    (1, "Avoid the crash on big profile photos"),
                    (2, "Bump the lockfile"),
                ],
            ),
        )
        .await;
    assert_eq!(setup.links().await, [], "words alone link nothing");
    let embedded = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "select (select count(*) from app.commits where embedding is not null),
                    (select count(*) from app.tasks where embedding is not null)",
        )
        .fetch_one(&admin)
        .await
        .unwrap()
    };
    assert_eq!(embedded().await, (0, 0), "nothing embedded without a model");

    // With the model, a relink embeds every commit and task once and links commit 1 by meaning.
    let relink = || async {
        let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
        let job = RelinkRepository {
            repository: setup.repository,
        };
        jobs::enqueue(&mut tx, &job).await.unwrap();
        tx.commit().await.unwrap();
    };
    let model = model();
    relink().await;
    setup
        .worker_with(Some(model.clone()))
        .drain()
        .await
        .unwrap();
    assert_eq!(embedded().await, (2, 5));
    let links = setup.links().await;
    let [(commit, task, method, relation, state, confidence, evidence, _)] = &links[..] else {
        panic!("one link: {links:?}");
    };
    assert_eq!(
        (
            commit.as_str(),
            task.as_str(),
            method.as_str(),
            relation.as_str(),
            state.as_str()
        ),
        ("01", "7", "similarity", "references", "active"),
        "{evidence}"
    );
    let semantic = evidence["semantic"].as_f64().unwrap();
    assert!(semantic >= 0.60, "{evidence}");
    assert_eq!(evidence["terms"], json!(["crash"]), "{evidence}");
    assert!((f64::from(*confidence) - semantic).abs() < 1e-3);
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select embedding from app.tasks where external_key = '7'")
            .fetch_all(&admin)
            .await
            .unwrap();

    // Relinking again embeds nothing new and changes nothing; a task whose title changes is
    // embedded again.
    relink().await;
    setup
        .worker_with(Some(model.clone()))
        .drain()
        .await
        .unwrap();
    assert_eq!(setup.links().await, links);
    sqlx::query("update app.tasks set title = 'Profile pictures over 10 MB are refused' where external_key = '7'")
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(
        embedded().await,
        (2, 4),
        "the changed title's embedding is forgotten"
    );
    relink().await;
    setup.worker_with(Some(model)).drain().await.unwrap();
    assert_eq!(embedded().await, (2, 5));
    let again: Vec<Vec<u8>> =
        sqlx::query_scalar("select embedding from app.tasks where external_key = '7'")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_ne!(again, stored);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn more_texts_than_one_pass_embeds_are_embedded_by_the_next_passes(admin: PgPool) {
    let setup = Setup::new(admin.clone()).await;
    // 1,000 texts a pass: 5 tasks and 1,003 commits take two.
    sqlx::query(
        "insert into app.commits (tenant_id, repository_id, sha, message, committed_at)
         select $1, $2, lpad(to_hex(n), 40, '0'), 'Tidy module ' || n, '2019-05-15T15:00:00Z'
         from generate_series(1, 1003) as n",
    )
    .bind(setup.tenant)
    .bind(setup.repository)
    .execute(&admin)
    .await
    .unwrap();
    let mut tx = setup.db.tenant(setup.tenant).await.unwrap();
    let job = RelinkRepository {
        repository: setup.repository,
    };
    jobs::enqueue(&mut tx, &job).await.unwrap();
    tx.commit().await.unwrap();
    setup.worker_with(Some(model())).drain().await.unwrap();
    let (missing, passes, relinks, unfinished): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from app.commits where embedding is null),
                (select count(*) from app.jobs where kind = 'embed_texts'),
                (select count(*) from app.jobs where kind = 'relink_repository'),
                (select count(*) from app.jobs where status <> 'done')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(
        (missing, passes, relinks, unfinished),
        (0, 1, 2, 0),
        "the relink embeds 1,000 texts, an embed_texts pass the last 8, then relinks"
    );
}
