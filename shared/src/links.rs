//! How a task is named, by a commit's reference (the linker) and by a person (`POST …/links`,
//! `dashboard link add`), resolved the same way: a task-list id or tracker key anywhere in the
//! tenant, the commit's own repository first; a GitHub issue or pull request number in one
//! repository.

use std::collections::HashMap;

use uuid::Uuid;

use crate::{TenantTx, domain::TaskSource};

/// The task a person names for a commit of `repository`: a GitHub issue or pull request number of
/// that repository (`#12`, `12`), or a task-list id or tracker key (`TASK-AUTH-12`, `ENG-3`) of the
/// tenant, the commit's own repository first (as references resolve).
pub async fn find_named_task(
    tx: &mut TenantTx,
    repository: Uuid,
    named: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let number = named.strip_prefix('#').unwrap_or(named);
    if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
        return github_task(tx, repository, number).await;
    }
    Ok(tasks_by_key(tx, repository, &[named])
        .await?
        .into_values()
        .next())
}

/// The task-list tasks of the tenant holding `keys`: where several repositories hold a key,
/// `repository`'s task first, then the oldest.
pub async fn tasks_by_key(
    tx: &mut TenantTx,
    repository: Uuid,
    keys: &[&str],
) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<String> = keys.iter().map(|&k| k.to_owned()).collect();
    let found = sqlx::query!(
        r#"select distinct on (external_key) external_key, id from tasks
           where external_key = any($1) and removed_at is null and source = $3
           order by external_key, (repository_id = $2) desc, created_at"#,
        &keys,
        repository,
        TaskSource::Tasklist.as_str(),
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(found.into_iter().map(|t| (t.external_key, t.id)).collect())
}

/// The GitHub issue or pull request `number` of `repository`.
pub async fn github_task(
    tx: &mut TenantTx,
    repository: Uuid,
    number: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select id from tasks
           where repository_id = $1 and source in ($3, $4) and external_key = $2
             and removed_at is null"#,
        repository,
        number,
        TaskSource::GithubIssue.as_str(),
        TaskSource::GithubPr.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await
}
