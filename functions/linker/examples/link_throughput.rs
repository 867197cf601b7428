//! Benchmark (run by `scripts/bench-link`): linking 10,000 commits against 10,000 tasks of one
//! repository end to end (reading both, index build, scoring, writing the links, one transaction),
//! next to the time to simply insert the same 10,000 commits (the floor). Texts come from the linking
//! benchmark (`shared/fixtures/linking`), messages with their changed files, cycled to 10,000, each
//! pass marked with a word of its own.
//!
//! With `LINKER_MODEL_DIR`, linking reads meaning too, from stored embeddings: each distinct text is
//! embedded first, as ingestion does (reported in texts per second), and stored with every copy;
//! the linker's memory with the model loaded is reported too.
//! Needs `DATABASE_URL` of a role that may
//! create databases; works in a database of its own and drops it afterwards.
//!
//! Usage: `link_throughput [FIXTURES_DIR]`

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use chrono::{DateTime, Duration, Utc};
use dashboard_linker::{
    link::link,
    semantic::{self, Model},
    similarity::{Settings, commit_text},
};
use dashboard_shared::{db::MIGRATOR, testing};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

const SIZE: usize = 10_000;
/// One word per pass over the benchmark's texts (they number about 2,800 of each).
const MARKS: [&str; 8] = [
    "scheduler",
    "storage",
    "network",
    "security",
    "ui",
    "cli",
    "metrics",
    "docs",
];

#[derive(Deserialize)]
struct Issue {
    title: String,
}

#[derive(Deserialize)]
struct Commit {
    message: String,
    #[serde(default)]
    files: Vec<String>,
}

fn read<T: for<'de> Deserialize<'de>>(dir: &Path, file: &str) -> anyhow::Result<Vec<T>> {
    let mut all = Vec::new();
    for project in ["tez", "avro"] {
        let text = std::fs::read_to_string(dir.join(project).join(file))?;
        for line in text.lines().filter(|l| !l.is_empty()) {
            all.push(serde_json::from_str(line)?);
        }
    }
    Ok(all)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let fixtures = std::env::args().nth(1).map_or_else(
        || PathBuf::from("../shared/fixtures/linking"),
        PathBuf::from,
    );
    let issues: Vec<Issue> = read(&fixtures, "issues.jsonl")?;
    let commits: Vec<Commit> = read(&fixtures, "commits.jsonl")?;
    let model = Model::from_lookup(&dashboard_shared::config::Env::process())?;
    if model.is_some() {
        println!("memory with the model loaded: {}", memory());
    }
    testing::with_scratch_database(|admin| async move {
        run(&admin, &issues, &commits, model.as_ref()).await
    })
    .await
}

/// This process's resident memory now and at its peak (Linux).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or("?".to_owned(), |v| v.trim().to_owned())
    };
    format!("resident {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

async fn run(
    admin: &PgPool,
    issues: &[Issue],
    commits: &[Commit],
    model: Option<&std::sync::Arc<Model>>,
) -> anyhow::Result<()> {
    MIGRATOR.run(admin).await?;
    let tenant = testing::create_tenant(admin, "bench").await;
    let repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url, default_branch)
         values ($1, 'git', 'bench', '/dev/null', 'main') returning id",
    )
    .bind(tenant)
    .fetch_one(admin)
    .await?;
    let start: DateTime<Utc> = "2020-01-01T00:00:00Z".parse()?;
    // The real texts are fewer than 10,000: each pass over them is marked with its own word, so
    // that a copy of a commit matches its copy of a task rather than tying with every copy.
    let titles: Vec<String> = (0..SIZE)
        .map(|i| {
            format!(
                "{} {}",
                issues[i % issues.len()].title,
                MARKS[i / issues.len()]
            )
        })
        .collect();
    let keys: Vec<String> = (0..SIZE).map(|i| (i + 1).to_string()).collect();
    let created: Vec<DateTime<Utc>> = (0..SIZE)
        .map(|i| start + Duration::minutes(i as i64 * 10))
        .collect();
    sqlx::query(
        "insert into app.tasks (tenant_id, repository_id, source, external_key, title, created_at)
         select $1, $2, 'github_issue', k, t, c from unnest($3::text[], $4::text[], $5::timestamptz[]) as x (k, t, c)",
    )
    .bind(tenant)
    .bind(repository)
    .bind(&keys)
    .bind(&titles)
    .bind(&created)
    .execute(admin)
    .await?;

    let db = testing::runtime_db(admin);
    let shas: Vec<String> = (0..SIZE).map(|i| format!("{i:040x}")).collect();
    let messages: Vec<String> = (0..SIZE)
        .map(|i| {
            format!(
                "{} {}",
                commits[i % commits.len()].message,
                MARKS[i / commits.len()]
            )
        })
        .collect();
    let times: Vec<DateTime<Utc>> = (0..SIZE)
        .map(|i| start + Duration::minutes(i as i64 * 10 + 60))
        .collect();
    // The changed paths too, as ingestion stores them (one JSON array per commit).
    let paths: Vec<serde_json::Value> = (0..SIZE)
        .map(|i| serde_json::json!(commits[i % commits.len()].files))
        .collect();

    let floor = Instant::now();
    let mut tx = db.tenant(tenant).await?;
    sqlx::query(
        "insert into commits (repository_id, sha, message, committed_at, changed_paths)
         select $1, s, m, t, array(select jsonb_array_elements_text(p))
         from unnest($2::text[], $3::text[], $4::timestamptz[], $5::jsonb[]) as x (s, m, t, p)",
    )
    .bind(repository)
    .bind(&shas)
    .bind(&messages)
    .bind(&times)
    .bind(&paths)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let floor = floor.elapsed();

    if let Some(model) = model {
        // Each distinct text once, as ingestion embeds each new commit and task; every copy of a
        // text gets its embedding.
        let titles: Vec<&str> = issues.iter().map(|i| i.title.as_str()).collect();
        let messages: Vec<String> = commits.iter().map(|c| commit_text(&c.message)).collect();
        let texts: Vec<&str> = titles
            .iter()
            .copied()
            .chain(messages.iter().map(String::as_str))
            .collect();
        let embedding = Instant::now();
        let embedded = model.embed(&texts)?;
        let embedding = embedding.elapsed();
        println!(
            "embedding {} texts: {:.1} s, {:.0} texts/s; {}",
            texts.len(),
            embedding.as_secs_f64(),
            texts.len() as f64 / embedding.as_secs_f64(),
            memory()
        );
        let (title_embeddings, message_embeddings) = embedded.split_at(titles.len());
        let bytes = |of: &[Vec<f32>], i: usize| semantic::to_bytes(&of[i % of.len()]);
        let task_bytes: Vec<Vec<u8>> = (0..SIZE).map(|i| bytes(title_embeddings, i)).collect();
        let commit_bytes: Vec<Vec<u8>> = (0..SIZE).map(|i| bytes(message_embeddings, i)).collect();
        sqlx::query(
            "update app.tasks t set embedding = x.e from unnest($1::text[], $2::bytea[]) as x (k, e)
             where t.repository_id = $3 and t.external_key = x.k",
        )
        .bind(&keys)
        .bind(&task_bytes)
        .bind(repository)
        .execute(admin)
        .await?;
        sqlx::query(
            "update app.commits c set embedding = x.e from unnest($1::text[], $2::bytea[]) as x (s, e)
             where c.repository_id = $3 and c.sha = x.s",
        )
        .bind(&shas)
        .bind(&commit_bytes)
        .bind(repository)
        .execute(admin)
        .await?;
    }

    let linking = Instant::now();
    let mut tx = db.tenant(tenant).await?;
    let linked = link(&mut tx, repository, None, None, &Settings::default(), model).await?;
    tx.commit().await?;
    let linking = linking.elapsed();

    println!("{SIZE} commits × {SIZE} tasks: {linked:?}");
    println!(
        "link (read, index, score, write): {:.0} ms; inserting the commits (floor): {:.0} ms; ratio {:.1}",
        linking.as_secs_f64() * 1000.0,
        floor.as_secs_f64() * 1000.0,
        linking.as_secs_f64() / floor.as_secs_f64()
    );
    if model.is_some() {
        println!("with stored embeddings; {}", memory());
    }
    Ok(())
}
