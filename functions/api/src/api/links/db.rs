//! What a person does to links, each on the caller's tenant transaction: link a commit to a task by
//! hand (which also confirms a suggestion), remove a link for good, ask for everything to be linked
//! again, and see how that job stands. The API and `dashboard link …` call these same functions;
//! manual links and removals are recorded in the audit log, in the same transaction.

use dashboard_shared::{
    Error, TenantTx,
    domain::{LinkMethod, LinkRelation, LinkState, TaskSource},
    jobs::{
        self,
        kinds::{RelinkOrganization, RelinkRepository},
    },
    links,
};
use serde_json::json;
use uuid::Uuid;

use super::model::{AddedLink, Job, Link, PreviousLink};
use crate::audit;

/// A commit found by what a person gave for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRef {
    /// Its id.
    pub id: Uuid,
    /// Its repository.
    pub repository_id: Uuid,
    /// Its full SHA.
    pub sha: String,
}

/// The commit `given` names: its id, or its SHA or an unambiguous prefix of at least 7 hex digits.
/// Nothing found (or another organization's) is a 422 naming `commit`.
pub async fn find_commit(tx: &mut TenantTx, given: &str) -> Result<CommitRef, Error> {
    let given = given.trim();
    let found = if let Ok(id) = given.parse::<Uuid>() {
        sqlx::query_as!(
            CommitRef,
            "select id, repository_id, sha from commits where id = $1",
            id
        )
        .fetch_all(&mut **tx)
        .await?
    } else {
        let prefix = given.to_ascii_lowercase();
        if !(7..=64).contains(&prefix.len()) || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::Unprocessable(
                "commit: give a commit's id or its SHA (7 to 64 hex digits)".into(),
            ));
        }
        // Hex digits only: nothing in the prefix is special to `like`.
        sqlx::query_as!(
            CommitRef,
            "select id, repository_id, sha from commits where sha like $1 || '%' order by sha limit 2",
            prefix
        )
        .fetch_all(&mut **tx)
        .await?
    };
    match <[CommitRef; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(found) if found.is_empty() => Err(Error::Unprocessable(format!(
            "commit: no commit {given} in this organization"
        ))),
        Err(_) => Err(Error::Unprocessable(format!(
            "commit: {given} names several commits; give more of the SHA"
        ))),
    }
}

/// The task `given` names for a commit of `repository`: its id, a task-list id or tracker key of
/// the organization (the commit's repository first), or a GitHub issue or pull request number of
/// the commit's repository. Nothing found is a 422 naming `task`.
pub async fn find_task(tx: &mut TenantTx, repository: Uuid, given: &str) -> Result<Uuid, Error> {
    let given = given.trim();
    let found = if let Ok(id) = given.parse::<Uuid>() {
        sqlx::query_scalar!(
            "select id from tasks where id = $1 and removed_at is null",
            id
        )
        .fetch_optional(&mut **tx)
        .await?
    } else {
        if given.is_empty() || given.chars().count() > 200 {
            return Err(Error::Unprocessable(
                "task: give a task's id, key (TASK-AUTH-12) or number (#12), at most 200 characters"
                    .into(),
            ));
        }
        links::find_named_task(tx, repository, given).await?
    };
    found.ok_or_else(|| Error::Unprocessable(format!("task: no task {given} for this commit")))
}

/// Links `commit` to `task` by hand on behalf of `by` (none: the command line): the link becomes
/// `manual` and `active` whatever it was — a suggestion is confirmed, a removed link restored —
/// and the linker's similarity then leaves the commit alone.
pub async fn add_link(
    tx: &mut TenantTx,
    by: Option<Uuid>,
    commit: &CommitRef,
    task: Uuid,
) -> Result<AddedLink, Error> {
    let previous = sqlx::query_as!(
        PreviousLink,
        r#"select method as "method: LinkMethod", state as "state: LinkState"
           from commit_task_links where commit_id = $1 and task_id = $2 for update"#,
        commit.id,
        task
    )
    .fetch_optional(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into commit_task_links (commit_id, task_id, method, confidence, state, created_by)
         values ($1, $2, $3, 1, $4, $5)
         on conflict (tenant_id, commit_id, task_id) do update set
           method = excluded.method, confidence = 1, state = excluded.state,
           created_by = excluded.created_by, updated_at = now()",
        commit.id,
        task,
        LinkMethod::Manual.as_str(),
        LinkState::Active.as_str(),
        by,
    )
    .execute(&mut **tx)
    .await?;
    let link = find_link(tx, commit.id, task)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the link just written is not there"))?;
    audit::record(
        tx,
        audit::Event {
            actor: by,
            action: "link.added",
            target_type: "link",
            target_id: format!("{}/{task}", commit.id),
            details: json!({ "commit": link.commit_sha, "task": link.task_key, "previous": previous }),
        },
    )
    .await?;
    Ok(AddedLink { link, previous })
}

/// Removes the link of `commit` to `task` for good on behalf of `by`: it is kept as `rejected`,
/// so that relinking never brings it back. `false` when there is none (or it is already removed).
pub async fn remove_link(
    tx: &mut TenantTx,
    by: Option<Uuid>,
    commit: Uuid,
    task: Uuid,
) -> Result<bool, Error> {
    let removed = sqlx::query!(
        r#"with old as (
             select method, state from commit_task_links
             where commit_id = $1 and task_id = $2 and state <> $3
             for update)
           update commit_task_links l set state = $3, updated_at = now()
           from old where l.commit_id = $1 and l.task_id = $2
           returning old.method as "method: LinkMethod", old.state as "state: LinkState",
                     (select sha from commits where id = $1) as "sha!",
                     (select external_key from tasks where id = $2) as "key!""#,
        commit,
        task,
        LinkState::Rejected.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(removed) = removed else {
        return Ok(false);
    };
    audit::record(
        tx,
        audit::Event {
            actor: by,
            action: "link.removed",
            target_type: "link",
            target_id: format!("{commit}/{task}"),
            details: json!({
                "commit": removed.sha,
                "task": removed.key,
                "previous": PreviousLink { method: removed.method, state: removed.state },
            }),
        },
    )
    .await?;
    Ok(true)
}

/// The link of `commit` to `task`, whatever its state.
pub async fn find_link(
    tx: &mut TenantTx,
    commit: Uuid,
    task: Uuid,
) -> Result<Option<Link>, sqlx::Error> {
    sqlx::query_as!(
        Link,
        r#"select l.commit_id, c.sha as commit_sha, l.task_id, t.external_key as task_key,
                  t.title as task_title, t.source as "task_source: TaskSource",
                  l.method as "method: LinkMethod", l.relation as "relation: LinkRelation",
                  l.state as "state: LinkState", l.confidence, l.created_by, l.created_at,
                  l.updated_at
           from commit_task_links l
           join commits c on c.id = l.commit_id
           join tasks t on t.id = l.task_id
           where l.commit_id = $1 and l.task_id = $2"#,
        commit,
        task
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Asks for the commits of `repository` (every repository without one) to be linked again, after
/// tasks changed: one job, or the one already waiting to do the same. A repository that is not
/// the organization's (or archived) is a 422 naming `repository`.
pub async fn request_relink(tx: &mut TenantTx, repository: Option<Uuid>) -> Result<Job, Error> {
    let id = match repository {
        Some(repository) => {
            let connected = sqlx::query_scalar!(
                r#"select exists (select 1 from repositories where id = $1 and not archived) as "exists!""#,
                repository
            )
            .fetch_one(&mut **tx)
            .await?;
            if !connected {
                return Err(Error::Unprocessable(format!(
                    "repository: no repository {repository} in this organization"
                )));
            }
            jobs::enqueue_or_find_pending(tx, &RelinkRepository { repository }).await?
        }
        None => jobs::enqueue_or_find_pending(tx, &RelinkOrganization {}).await?,
    };
    let job = find_job(tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the job just enqueued is not there"))?;
    Ok(job)
}

/// The organization's job `id`.
pub async fn find_job(tx: &mut TenantTx, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    Ok(jobs::find_job(tx, id).await?.map(Job::from))
}

/// Links and suggestions in force among the commits of `repository` (all without one): what
/// `dashboard link relink` reports when the job is done.
pub async fn count_links(
    tx: &mut TenantTx,
    repository: Option<Uuid>,
) -> Result<(i64, i64), sqlx::Error> {
    let counts = sqlx::query!(
        r#"select count(*) filter (where l.state = $2) as "active!",
                  count(*) filter (where l.state = $3) as "suggested!"
           from commit_task_links l join commits c on c.id = l.commit_id
           where $1::uuid is null or c.repository_id = $1"#,
        repository,
        LinkState::Active.as_str(),
        LinkState::Suggested.as_str(),
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok((counts.active, counts.suggested))
}
