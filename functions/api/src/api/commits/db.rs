//! The queries of commits and their links, each on the caller's tenant transaction (row-level
//! security decides what is visible; another organization's commit finds nothing).

use std::collections::HashMap;

use dashboard_shared::{
    TenantTx,
    domain::{LinkMethod, LinkRelation, LinkState, TaskSource, TaskStatus},
};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{
    Candidate, Commit, CommitDetail, CommitKey, CommitLink, CommitQuery, Evidence, TaskRef, Why,
};
use crate::api::pagination::PageRequest;

/// A page of commits matching `filter`, newest first (by date, then id), each with its links and
/// suggestions.
pub async fn list_commits(
    tx: &mut TenantTx,
    filter: &CommitQuery,
    page: &PageRequest<CommitKey>,
) -> Result<Vec<Commit>, sqlx::Error> {
    let after = page.after.as_ref();
    let rows = sqlx::query!(
        r#"select c.id, c.sha, c.repository_id, r.full_name as repository,
                  split_part(c.message, E'\n', 1) as "title!", c.author_name, c.author_email,
                  c.dated_at, c.on_default_branch
           from commits c
           join repositories r on r.id = c.repository_id
           where not r.archived
             and ($1::uuid is null or c.repository_id = $1)
             and ($2::text is null or lower(c.author_email) = lower($2)
                  or lower(c.author_name) = lower($2))
             and ($3::timestamptz is null or c.dated_at >= $3)
             and ($4::timestamptz is null or c.dated_at < $4)
             and ($5::bool is null or $5 = exists (
                   select 1 from commit_task_links l join tasks t on t.id = l.task_id
                   where l.commit_id = c.id and l.state = $7 and t.removed_at is null))
             and ($6::uuid is null or exists (
                   select 1 from commit_task_links l
                   where l.commit_id = c.id and l.task_id = $6 and l.state = $7))
             and ($8::timestamptz is null or (c.dated_at, c.id) < ($8, $9::uuid))
           order by c.dated_at desc, c.id desc
           limit $10"#,
        filter.repository,
        filter.author,
        filter.since,
        filter.until,
        filter.linked,
        filter.task,
        LinkState::Active as LinkState,
        after.map(|k| k.0),
        after.map(|k| k.1),
        page.fetch(),
    )
    .fetch_all(&mut **tx)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut links = links_of(tx, &ids, false).await?;
    Ok(rows
        .into_iter()
        .map(|c| Commit {
            links: links.remove(&c.id).unwrap_or_default(),
            id: c.id,
            sha: c.sha,
            repository_id: c.repository_id,
            repository: c.repository,
            title: c.title,
            author_name: c.author_name,
            author_email: c.author_email,
            dated_at: c.dated_at,
            on_default_branch: c.on_default_branch,
        })
        .collect())
}

/// The commits `sha` (a full SHA or a prefix of one, lowercase) may name, in `repository` or in
/// any: at most `limit`, by SHA and repository.
pub async fn match_sha(
    tx: &mut TenantTx,
    sha: &str,
    repository: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Candidate>, sqlx::Error> {
    // Every SHA with this prefix sorts, byte by byte, between the prefix and the prefix followed
    // by `g` (the digit after `f`): a range the `commits_sha` index serves.
    let end = format!("{sha}g");
    sqlx::query_as!(
        Candidate,
        r#"select c.id, c.sha, c.repository_id, r.full_name as repository
           from commits c join repositories r on r.id = c.repository_id
           where c.sha collate "C" >= $1 and c.sha collate "C" < $2
             and not r.archived
             and ($3::uuid is null or c.repository_id = $3)
           order by c.sha, r.full_name
           limit $4"#,
        sha,
        end,
        repository,
        limit
    )
    .fetch_all(&mut **tx)
    .await
}

/// The commit `id` with its whole message, changed files and links (the removed ones apart).
pub async fn find_commit(tx: &mut TenantTx, id: Uuid) -> Result<Option<CommitDetail>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select c.id, c.sha, c.repository_id, r.full_name as repository,
                  split_part(c.message, E'\n', 1) as "title!", c.message, c.author_name,
                  c.author_email, c.authored_at, c.committed_at, c.dated_at,
                  c.on_default_branch, c.changed_paths
           from commits c join repositories r on r.id = c.repository_id
           where c.id = $1 and not r.archived"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(c) = row else {
        return Ok(None);
    };
    let (removed_links, links) = links_of(tx, &[id], true)
        .await?
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .partition(|l| l.state == LinkState::Rejected);
    Ok(Some(CommitDetail {
        commit: Commit {
            id: c.id,
            sha: c.sha,
            repository_id: c.repository_id,
            repository: c.repository,
            title: c.title,
            author_name: c.author_name,
            author_email: c.author_email,
            dated_at: c.dated_at,
            on_default_branch: c.on_default_branch,
            links,
        },
        message: c.message,
        authored_at: c.authored_at,
        committed_at: c.committed_at,
        changed_paths: c.changed_paths,
        removed_links,
    }))
}

/// The links of `commits` to tasks still listed, by commit: in force first, then suggested (then
/// removed, with `removed`), each by confidence and task key.
async fn links_of(
    tx: &mut TenantTx,
    commits: &[Uuid],
    removed: bool,
) -> Result<HashMap<Uuid, Vec<CommitLink>>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select l.commit_id, t.id as task_id, t.repository_id, t.external_key,
                  t.title, t.source as "source: TaskSource", t.status as "status: TaskStatus",
                  l.method as "method: LinkMethod", l.relation as "relation: LinkRelation",
                  l.confidence, l.state as "state: LinkState",
                  l.evidence as "evidence: Json<Evidence>", l.created_by
           from commit_task_links l join tasks t on t.id = l.task_id
           where l.commit_id = any($1) and t.removed_at is null and ($2 or l.state <> $3)
           order by l.commit_id, l.state = $4 desc, l.state = $5 desc, l.confidence desc,
                    t.external_key, t.id"#,
        commits,
        removed,
        LinkState::Rejected as LinkState,
        LinkState::Active as LinkState,
        LinkState::Suggested as LinkState,
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut by_commit: HashMap<Uuid, Vec<CommitLink>> = HashMap::new();
    for row in rows {
        by_commit
            .entry(row.commit_id)
            .or_default()
            .push(CommitLink {
                task: TaskRef {
                    id: row.task_id,
                    repository_id: row.repository_id,
                    key: row.external_key,
                    title: row.title,
                    source: row.source,
                    status: row.status,
                },
                method: row.method,
                relation: row.relation,
                confidence: row.confidence,
                state: row.state,
                why: Why::new(row.evidence.0, row.created_by),
            });
    }
    Ok(by_commit)
}
