//! The queries of unlinked work, each on the caller's tenant transaction. "Linked" means an
//! `active` link to a task that is still there: suggestions and removed links do not count.

use std::collections::BTreeMap;

use chrono::{Datelike as _, Duration, NaiveDate, Utc};
use dashboard_shared::{
    TenantTx,
    domain::{LinkState, TaskSource, TaskStatus},
};
use uuid::Uuid;

use super::model::{
    CommitFilter, CommitKey, LinkingRate, PullRequestFilter, RepositoryRate, TaskFilter, TaskKey,
    UnlinkedCommit, UnlinkedPullRequest, UnlinkedTask, WeekRate, rate,
};
use crate::api::pagination::PageRequest;

/// A page of the commits linked to no task, newest first.
pub async fn list_unlinked_commits(
    tx: &mut TenantTx,
    filter: &CommitFilter,
    page: &PageRequest<CommitKey>,
) -> Result<Vec<UnlinkedCommit>, sqlx::Error> {
    let after = page.after.as_ref();
    let rows = sqlx::query!(
        r#"select c.id, c.repository_id, r.full_name as repository, c.sha,
                  split_part(c.message, chr(10), 1) as "title!", c.author_name,
                  c.dated_at as at,
                  (select count(*) from commit_task_links s
                   where s.commit_id = c.id and s.state = $7) as "suggestions!"
           from commits c
           join repositories r on r.id = c.repository_id
           where not r.archived
             and ($1::uuid is null or c.repository_id = $1)
             and ($2::timestamptz is null or c.dated_at >= $2)
             and ($3::timestamptz is null or c.dated_at < $3)
             and ($4::timestamptz is null or (c.dated_at, c.id) < ($4, $5::uuid))
             and not exists (
               select 1 from commit_task_links l join tasks t on t.id = l.task_id
               where l.commit_id = c.id and l.state = $8 and t.removed_at is null)
           order by c.dated_at desc, c.id desc
           limit $6"#,
        filter.repository,
        filter.since,
        filter.until,
        after.map(|k| k.0),
        after.map(|k| k.1),
        page.fetch(),
        LinkState::Suggested.as_str(),
        LinkState::Active.as_str(),
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| UnlinkedCommit {
            id: c.id,
            repository_id: c.repository_id,
            repository: c.repository,
            sha: c.sha,
            title: c.title.trim_end().to_owned(),
            author_name: c.author_name,
            at: c.at,
            suggestions: c.suggestions,
        })
        .collect())
}

/// A page of the tasks (task-list items, GitHub issues) no commit is linked to, newest first.
pub async fn list_unlinked_tasks(
    tx: &mut TenantTx,
    filter: &TaskFilter,
    page: &PageRequest<TaskKey>,
) -> Result<Vec<UnlinkedTask>, sqlx::Error> {
    let after = page.after.as_ref();
    sqlx::query_as!(
        UnlinkedTask,
        r#"select t.id, t.repository_id, r.full_name as repository, t.project_id,
                  t.source as "source: TaskSource", t.external_key as key, t.title,
                  t.status as "status: TaskStatus", t.url, t.created_at,
                  (select count(*) from commit_task_links s
                   where s.task_id = t.id and s.state = $8) as "suggestions!"
           from tasks t
           join repositories r on r.id = t.repository_id
           where t.removed_at is null and not r.archived and t.source <> $10
             and ($1::uuid is null or t.repository_id = $1)
             and ($2::uuid is null or t.project_id = $2)
             and ($3::text is null or t.source = $3)
             and ($4::text is null or t.status = $4)
             and ($5::timestamptz is null or (t.created_at, t.id) < ($5, $6::uuid))
             and not exists (
               select 1 from commit_task_links l where l.task_id = t.id and l.state = $9)
           order by t.created_at desc, t.id desc
           limit $7"#,
        filter.repository,
        filter.project,
        filter.source.map(TaskSource::as_str),
        filter.status.map(TaskStatus::as_str),
        after.map(|k| k.0),
        after.map(|k| k.1),
        page.fetch(),
        LinkState::Suggested.as_str(),
        LinkState::Active.as_str(),
        TaskSource::GithubPr.as_str(),
    )
    .fetch_all(&mut **tx)
    .await
}

/// A page of the pull requests that reach no task — none of the commits linked to one is linked
/// to a task or an issue as well — newest first.
pub async fn list_unlinked_pull_requests(
    tx: &mut TenantTx,
    filter: &PullRequestFilter,
    page: &PageRequest<TaskKey>,
) -> Result<Vec<UnlinkedPullRequest>, sqlx::Error> {
    let after = page.after.as_ref();
    sqlx::query_as!(
        UnlinkedPullRequest,
        r#"select t.id, t.repository_id, r.full_name as repository, t.external_key as number,
                  t.title, t.status as "status: TaskStatus", t.url, t.created_at, t.closed_at,
                  (select count(*) from commit_task_links l
                   where l.task_id = t.id and l.state = $6) as "commits!"
           from tasks t
           join repositories r on r.id = t.repository_id
           where t.removed_at is null and not r.archived and t.source = $7
             and ($1::uuid is null or t.repository_id = $1)
             and ($2::text is null or t.status = $2)
             and ($3::timestamptz is null or (t.created_at, t.id) < ($3, $4::uuid))
             and not exists (
               select 1 from commit_task_links l
               join commit_task_links o on o.commit_id = l.commit_id and o.task_id <> l.task_id
               join tasks other on other.id = o.task_id
               where l.task_id = t.id and l.state = $6 and o.state = $6
                 and other.source <> $7 and other.removed_at is null)
           order by t.created_at desc, t.id desc
           limit $5"#,
        filter.repository,
        filter.status.map(TaskStatus::as_str),
        after.map(|k| k.0),
        after.map(|k| k.1),
        page.fetch(),
        LinkState::Active.as_str(),
        TaskSource::GithubPr.as_str(),
    )
    .fetch_all(&mut **tx)
    .await
}

/// The linking rate of the last `weeks` ISO weeks (UTC; this one included), per week and per
/// repository with commits in them (or only `repository`).
pub async fn linking_rate(
    tx: &mut TenantTx,
    weeks: u32,
    repository: Option<Uuid>,
) -> Result<LinkingRate, sqlx::Error> {
    let today = Utc::now().date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let since = this_monday - Duration::weeks(i64::from(weeks) - 1);
    let mondays: Vec<NaiveDate> = (0..i64::from(weeks))
        .map(|w| since + Duration::weeks(w))
        .collect();
    let rows = sqlx::query!(
        r#"select c.repository_id, r.full_name as repository,
                  date_trunc('week', c.dated_at
                             at time zone 'UTC')::date as "week!",
                  count(*) as "commits!",
                  count(*) filter (where exists (
                    select 1 from commit_task_links l join tasks t on t.id = l.task_id
                    where l.commit_id = c.id and l.state = $3 and t.removed_at is null)) as "linked!"
           from commits c
           join repositories r on r.id = c.repository_id
           where not r.archived
             and c.dated_at
                 >= ($1::date)::timestamp at time zone 'UTC'
             and c.dated_at
                 < ($4::date)::timestamp at time zone 'UTC'
             and ($2::uuid is null or c.repository_id = $2)
           group by 1, 2, 3
           order by 2, 1, 3"#,
        since,
        repository,
        LinkState::Active.as_str(),
        this_monday + Duration::weeks(1),
    )
    .fetch_all(&mut **tx)
    .await?;
    // Per repository (by name), then per week; weeks without commits are there with zeros.
    let mut by_repository: BTreeMap<(String, Uuid), BTreeMap<NaiveDate, (i64, i64)>> =
        BTreeMap::new();
    let mut total: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let counts = (row.commits, row.linked);
        by_repository
            .entry((row.repository, row.repository_id))
            .or_default()
            .insert(row.week, counts);
        let sum = total.entry(row.week).or_default();
        sum.0 += counts.0;
        sum.1 += counts.1;
    }
    let series = |counts: &BTreeMap<NaiveDate, (i64, i64)>| -> Vec<WeekRate> {
        mondays
            .iter()
            .map(|monday| {
                let (commits, linked) = counts.get(monday).copied().unwrap_or_default();
                WeekRate::new(*monday, commits, linked)
            })
            .collect()
    };
    let repositories = by_repository
        .into_iter()
        .map(|((name, id), counts)| {
            let commits = counts.values().map(|c| c.0).sum();
            let linked = counts.values().map(|c| c.1).sum();
            RepositoryRate {
                id,
                repository: name,
                commits,
                linked,
                rate: rate(commits, linked),
                weeks: series(&counts),
            }
        })
        .collect();
    Ok(LinkingRate {
        since,
        weeks: series(&total),
        repositories,
    })
}
