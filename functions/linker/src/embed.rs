//! Embedding texts once, where the linker first meets them: a linking pass embeds the tasks and
//! commits it is about to read that have none yet, up to [`BUDGET`] texts, and leaves the rest to
//! `embed_texts` jobs ([`embed_texts`]), one pass of [`BUDGET`] each, the last relinking the
//! repository. A commit's message is embedded as the words read it ([`commit_text`]: no trailers,
//! references or attributions); a task's title alone (the model's threshold was chosen on titles;
//! bodies are often templates).

use std::sync::Arc;

use dashboard_shared::{
    TenantId, TenantTx,
    jobs::{
        self,
        kinds::{EmbedTexts, RelinkRepository},
    },
};
use uuid::Uuid;

use crate::{
    LinkerContext,
    semantic::{self, Model},
    similarity::commit_text,
};

/// Texts one pass embeds at most (about 5–20 s of one core): a push of more commits, or a model
/// configured beside a large history, is embedded over several passes.
const BUDGET: usize = 1_000;

/// Embeds what has no embedding yet: the repository's tasks, then the commits of `scope` (all of the
/// repository's with `None`), at most [`BUDGET`] texts, and stores them. Returns whether some may be
/// left.
pub async fn missing(
    tx: &mut TenantTx,
    model: &Arc<Model>,
    repository: Uuid,
    scope: Option<&[Uuid]>,
) -> anyhow::Result<bool> {
    let budget = BUDGET as i64;
    let tasks: Vec<(Uuid, String)> = sqlx::query_as(
        "select id, title from tasks
         where repository_id = $1 and removed_at is null and embedding is null limit $2",
    )
    .bind(repository)
    .bind(budget)
    .fetch_all(&mut **tx)
    .await?;
    let commits: Vec<(Uuid, String)> = sqlx::query_as(
        "select id, message from commits
         where repository_id = $1 and ($2::uuid[] is null or id = any($2)) and embedding is null limit $3",
    )
    .bind(repository)
    .bind(scope)
    .bind(budget - tasks.len() as i64)
    .fetch_all(&mut **tx)
    .await?;
    if tasks.is_empty() && commits.is_empty() {
        return Ok(false);
    }
    let texts: Vec<String> = tasks
        .iter()
        .map(|(_, title)| title.clone())
        .chain(commits.iter().map(|(_, message)| commit_text(message)))
        .collect();
    let model = model.clone();
    let started = std::time::Instant::now();
    let embeddings = tokio::task::spawn_blocking(move || {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        model.embed(&texts)
    })
    .await??;
    let (task_embeddings, commit_embeddings) = embeddings.split_at(tasks.len());
    for (statement, rows, embeddings) in [
        (
            "update tasks t set embedding = x.embedding
             from unnest($1::uuid[], $2::bytea[]) as x (id, embedding) where t.id = x.id",
            &tasks,
            task_embeddings,
        ),
        (
            "update commits c set embedding = x.embedding
             from unnest($1::uuid[], $2::bytea[]) as x (id, embedding) where c.id = x.id",
            &commits,
            commit_embeddings,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
        let bytes: Vec<Vec<u8>> = embeddings.iter().map(|e| semantic::to_bytes(e)).collect();
        sqlx::query(statement)
            .bind(&ids)
            .bind(&bytes)
            .execute(&mut **tx)
            .await?;
    }
    tracing::info!(
        repository.id = %repository,
        tasks = tasks.len(),
        commits = commits.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "texts embedded"
    );
    Ok(tasks.len() + commits.len() == BUDGET)
}

/// Enqueues the first `embed_texts` pass for `repository`, unless a pass is already pending.
pub async fn continue_later(tx: &mut TenantTx, repository: Uuid) -> Result<(), sqlx::Error> {
    let pending: bool = sqlx::query_scalar(
        "select exists (select 1 from jobs where kind = $1 and status in ('queued', 'running')
                          and payload ->> 'repository' = $2::text)",
    )
    .bind(<EmbedTexts as jobs::Job>::KIND)
    .bind(repository)
    .fetch_one(&mut **tx)
    .await?;
    if !pending {
        jobs::enqueue(
            tx,
            &EmbedTexts {
                repository,
                pass: 0,
            },
        )
        .await?;
    }
    Ok(())
}

/// Runs an [`EmbedTexts`] job for `tenant`: one pass, then the next pass or, after the last, a
/// relink of the repository.
pub async fn embed_texts(
    ctx: LinkerContext,
    tenant: TenantId,
    job: EmbedTexts,
) -> anyhow::Result<()> {
    let Some(model) = &ctx.semantic else {
        tracing::warn!(repository.id = %job.repository, "no model here: nothing embedded");
        return Ok(());
    };
    let mut tx = ctx.db.tenant(tenant).await?;
    if missing(&mut tx, model, job.repository, None).await? {
        let next = EmbedTexts {
            repository: job.repository,
            pass: job.pass + 1,
        };
        jobs::enqueue(&mut tx, &next).await?;
    } else {
        jobs::enqueue_or_find_pending(
            &mut tx,
            &RelinkRepository {
                repository: job.repository,
            },
        )
        .await?;
    }
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    Ok(())
}
