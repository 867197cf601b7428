//! The queries of tasks, each on the caller's tenant transaction (row-level security decides what
//! is visible; another organization's id finds nothing). Text search goes through
//! `lookup.tasks_matching` (migration 0033), which reads the search index for the transaction's
//! own tenant only.

use dashboard_shared::{
    TenantTx,
    domain::{LinkMethod, LinkRelation, LinkState, TaskSource, TaskStatus},
};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{CommitRef, Task, TaskDetail, TaskFilter, TaskKey, TaskLink};
use crate::api::{
    commits::model::{Evidence, Why},
    pagination::PageRequest,
};

/// The commits and the suggestions a task shows at most (all of them: `GET …/commits?task=`).
pub const MAX_TASK_LINKS: i64 = 100;

/// A page of tasks matching `filter`: with search text `q`, best match first; otherwise by
/// repository, source and key. Either way the key breaks ties, so pages are stable.
pub async fn list_tasks(
    tx: &mut TenantTx,
    filter: &TaskFilter,
    q: Option<&str>,
    page: &PageRequest<TaskKey>,
) -> Result<Vec<Task>, sqlx::Error> {
    let after = page.after.as_ref();
    let active = LinkState::Active;
    if let Some(q) = q {
        return sqlx::query_as!(
            Task,
            r#"select t.id, t.repository_id, r.full_name as repository, t.project_id,
                      p.path as "project_path?", t.source as "source: TaskSource",
                      t.external_key as key, t.title, t.status as "status: TaskStatus", t.labels,
                      t.section, t.url,
                      (select count(*) from commit_task_links l
                       where l.task_id = t.id and l.state = $6) as "linked_commits!",
                      m.rank as "rank?", t.created_at, t.updated_at, t.closed_at
               from lookup.tasks_matching($11) m
               join tasks t on t.id = m.task_id
               join repositories r on r.id = t.repository_id
               left join projects p on p.id = t.project_id
               where t.removed_at is null and not r.archived
                 and ($1::uuid is null or t.project_id = $1)
                 and ($2::uuid is null or t.repository_id = $2)
                 and ($3::text is null or t.status = $3)
                 and ($4::text is null or t.source = $4)
                 and ($5::bool is null or $5 = exists (
                       select 1 from commit_task_links l where l.task_id = t.id and l.state = $6))
                 -- Best rank first: ascending by its negation, so one row comparison holds.
                 and ($7::real is null
                      or (-m.rank, t.repository_id, t.source, t.external_key)
                         > (-$7::real, $8::uuid, $9::text, $10::text))
               order by -m.rank, t.repository_id, t.source, t.external_key
               limit $12"#,
            filter.project,
            filter.repository,
            filter.status as Option<TaskStatus>,
            filter.source as Option<TaskSource>,
            filter.linked,
            active as LinkState,
            after.map(|k| k.0),
            after.map(|k| k.1),
            after.map(|k| k.2) as Option<TaskSource>,
            after.map(|k| k.3.as_str()),
            q,
            page.fetch(),
        )
        .fetch_all(&mut **tx)
        .await;
    }
    sqlx::query_as!(
        Task,
        r#"select t.id, t.repository_id, r.full_name as repository, t.project_id,
                  p.path as "project_path?", t.source as "source: TaskSource",
                  t.external_key as key, t.title, t.status as "status: TaskStatus", t.labels,
                  t.section, t.url,
                  (select count(*) from commit_task_links l
                   where l.task_id = t.id and l.state = $6) as "linked_commits!",
                  null::real as "rank?", t.created_at, t.updated_at, t.closed_at
           from tasks t
           join repositories r on r.id = t.repository_id
           left join projects p on p.id = t.project_id
           where t.removed_at is null and not r.archived
             and ($1::uuid is null or t.project_id = $1)
             and ($2::uuid is null or t.repository_id = $2)
             and ($3::text is null or t.status = $3)
             and ($4::text is null or t.source = $4)
             and ($5::bool is null or $5 = exists (
                   select 1 from commit_task_links l where l.task_id = t.id and l.state = $6))
             and ($7::uuid is null
                  or (t.repository_id, t.source, t.external_key) > ($7, $8::text, $9::text))
           order by t.repository_id, t.source, t.external_key
           limit $10"#,
        filter.project,
        filter.repository,
        filter.status as Option<TaskStatus>,
        filter.source as Option<TaskSource>,
        filter.linked,
        active as LinkState,
        after.map(|k| k.1),
        after.map(|k| k.2) as Option<TaskSource>,
        after.map(|k| k.3.as_str()),
        page.fetch(),
    )
    .fetch_all(&mut **tx)
    .await
}

/// The task `id` with its body, its linked commits and its suggestions (at most
/// [`MAX_TASK_LINKS`] of each, strongest first, then newest).
pub async fn find_task(tx: &mut TenantTx, id: Uuid) -> Result<Option<TaskDetail>, sqlx::Error> {
    let task = sqlx::query_as!(
        Task,
        r#"select t.id, t.repository_id, r.full_name as repository, t.project_id,
                  p.path as "project_path?", t.source as "source: TaskSource",
                  t.external_key as key, t.title, t.status as "status: TaskStatus", t.labels,
                  t.section, t.url,
                  (select count(*) from commit_task_links l
                   where l.task_id = t.id and l.state = $2) as "linked_commits!",
                  null::real as "rank?", t.created_at, t.updated_at, t.closed_at
           from tasks t
           join repositories r on r.id = t.repository_id
           left join projects p on p.id = t.project_id
           where t.id = $1 and t.removed_at is null and not r.archived"#,
        id,
        LinkState::Active as LinkState,
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(task) = task else {
        return Ok(None);
    };
    let body = sqlx::query_scalar!("select body from tasks where id = $1", id)
        .fetch_one(&mut **tx)
        .await?;
    let commits = links_of(tx, id, LinkState::Active).await?;
    let suggestions = links_of(tx, id, LinkState::Suggested).await?;
    Ok(Some(TaskDetail {
        task,
        body,
        commits,
        suggestions,
    }))
}

/// The links of task `id` in `state`, strongest first, then newest.
async fn links_of(
    tx: &mut TenantTx,
    id: Uuid,
    state: LinkState,
) -> Result<Vec<TaskLink>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select c.id, c.sha, c.repository_id, r.full_name as repository,
                  split_part(c.message, E'\n', 1) as "title!", c.author_name, c.dated_at,
                  l.method as "method: LinkMethod", l.relation as "relation: LinkRelation",
                  l.confidence, l.state as "state: LinkState",
                  l.evidence as "evidence: Json<Evidence>", l.created_by
           from commit_task_links l
           join commits c on c.id = l.commit_id
           join repositories r on r.id = c.repository_id
           where l.task_id = $1 and l.state = $2 and not r.archived
           order by l.confidence desc, c.dated_at desc, c.id desc
           limit $3"#,
        id,
        state as LinkState,
        MAX_TASK_LINKS,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| TaskLink {
            commit: CommitRef {
                id: row.id,
                sha: row.sha,
                repository_id: row.repository_id,
                repository: row.repository,
                title: row.title,
                author_name: row.author_name,
                dated_at: row.dated_at,
            },
            method: row.method,
            relation: row.relation,
            confidence: row.confidence,
            state: row.state,
            why: Why::new(row.evidence.0, row.created_by),
        })
        .collect())
}
