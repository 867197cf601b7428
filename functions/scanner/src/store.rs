//! Writing a scan into the tenant's rows: projects upserted by (repository, path) — one directory, one
//! project, whatever its types — with their hierarchy and task counts, the tasks of each project's
//! task list upserted by key, whatever vanished marked removed (never
//! deleted), and a relink enqueued when tasks changed. Running it twice changes nothing. A task's
//! status follows its checkbox only when the checkbox changed (`listed_status`), so a task a commit
//! closed stays done while the list still says `[ ]`. An organization keeps at most its plan's
//! `max_projects` projects over all its repositories ([`cap_projects`]).

use std::collections::HashMap;

use dashboard_shared::{
    TenantTx,
    domain::storable,
    jobs::{self, kinds::RelinkRepository},
    plan::ProjectRoom,
};
use uuid::Uuid;

use crate::{
    detect::{Project, Tree},
    tasklist::{self, TaskStatus},
};

/// What a stored scan changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Projects present in the scan.
    pub projects: usize,
    /// Tasks present in the scan.
    pub tasks: usize,
    /// Projects and tasks marked removed because they vanished.
    pub removed: usize,
    /// Whether any task was added, changed or removed (a relink was enqueued).
    pub tasks_changed: bool,
}

/// Keeps the first projects in path order — parents before what they contain — that fit
/// in the plan's room for this repository, and returns the problem to report when there were more.
pub fn cap_projects(projects: &mut Vec<Project>, room: &ProjectRoom) -> Vec<String> {
    let max = room.room();
    if projects.len() <= max {
        return Vec::new();
    }
    let found = projects.len();
    projects.sort_by(|a, b| a.path.cmp(&b.path));
    projects.truncate(max);
    vec![room.problem(found)]
}

/// Stores `projects` (found in `tree` at `commit`) for `repository`.
pub async fn store_scan(
    tx: &mut TenantTx,
    repository: Uuid,
    commit: &str,
    tree: &(dyn Tree + Sync),
    projects: &[Project],
) -> Result<Stored, sqlx::Error> {
    let mut ids: HashMap<&str, Uuid> = HashMap::new();
    for project in projects {
        let id: Uuid = sqlx::query_scalar(
            "insert into projects (repository_id, path, type, types, name, version, description, manifests, member_of, tags, problems, scanned_commit, todo_count, fixme_count, url, pinned_commit)
             values ($1, $2, $3, $16, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             on conflict (tenant_id, repository_id, path) do update set
               type = excluded.type, types = excluded.types,
               name = excluded.name, version = excluded.version, description = excluded.description,
               manifests = excluded.manifests, member_of = excluded.member_of, tags = excluded.tags,
               problems = excluded.problems, scanned_commit = excluded.scanned_commit, removed_at = null,
               todo_count = excluded.todo_count, fixme_count = excluded.fixme_count,
               url = excluded.url, pinned_commit = excluded.pinned_commit,
               updated_at = case when (projects.types, projects.name, projects.version, projects.description, projects.removed_at)
                                   is distinct from (excluded.types, excluded.name, excluded.version, excluded.description, null)
                            then now() else projects.updated_at end
             returning id",
        )
        .bind(repository)
        .bind(&project.path)
        .bind(project.kind)
        .bind(project.name.as_deref().map(storable))
        .bind(project.version.as_deref().map(storable))
        .bind(project.description.as_deref().map(storable))
        .bind(&project.manifests)
        .bind(&project.member_of)
        .bind(all_storable(&project.tags))
        .bind(all_storable(&project.problems))
        .bind(commit)
        .bind(project.todo_count as i32)
        .bind(project.fixme_count as i32)
        .bind(project.url.as_deref().map(storable))
        .bind(&project.commit)
        .bind(&project.types)
        .fetch_one(&mut **tx)
        .await?;
        ids.insert(project.path.as_str(), id);
    }
    for project in projects {
        let parent = project
            .parent_path
            .as_deref()
            .and_then(|path| ids.get(path).copied());
        sqlx::query(
            "update projects set parent_id = $2 where id = $1 and parent_id is distinct from $2",
        )
        .bind(ids[project.path.as_str()])
        .bind(parent)
        .execute(&mut **tx)
        .await?;
    }
    let present: Vec<Uuid> = ids.values().copied().collect();
    let mut removed = sqlx::query(
        "update projects set removed_at = now(), updated_at = now()
         where repository_id = $1 and removed_at is null and not (id = any($2))",
    )
    .bind(repository)
    .bind(&present)
    .execute(&mut **tx)
    .await?
    .rows_affected() as usize;

    let (tasks, tasks_changed, tasks_removed) =
        store_tasks(tx, repository, tree, projects, &ids).await?;
    removed += tasks_removed;
    sqlx::query(
        "update projects p set
           task_count = (select count(*) from tasks t where t.project_id = p.id and t.removed_at is null),
           tasks_done = (select count(*) from tasks t where t.project_id = p.id and t.removed_at is null and t.status = 'done')
         where p.repository_id = $1",
    )
    .bind(repository)
    .execute(&mut **tx)
    .await?;
    if tasks_changed {
        jobs::enqueue(tx, &RelinkRepository { repository }).await?;
    }
    Ok(Stored {
        projects: projects.len(),
        tasks,
        removed,
        tasks_changed,
    })
}

/// Upserts the tasks of every project's task list; returns (tasks, whether any changed, removed).
async fn store_tasks(
    tx: &mut TenantTx,
    repository: Uuid,
    tree: &(dyn Tree + Sync),
    projects: &[Project],
    ids: &HashMap<&str, Uuid>,
) -> Result<(usize, bool, usize), sqlx::Error> {
    let mut keys = Vec::new();
    let mut changed = false;
    for project in projects {
        let Some(manifest) = project.task_list() else {
            continue;
        };
        let list = tasklist::parse(&storable(&String::from_utf8_lossy(
            &tree.read(manifest).unwrap_or_default(),
        )));
        for task in &list.tasks {
            let status = match task.status {
                TaskStatus::Open => "open",
                TaskStatus::InProgress => "in_progress",
                TaskStatus::Done => "done",
            };
            let parent_key = task.parent.map(|i| list.tasks[i].key.clone());
            let written: Option<bool> = sqlx::query_scalar(
                "insert into tasks (repository_id, project_id, source, external_key, title, status, listed_status, section, parent_key, closed_at)
                 values ($1, $2, 'tasklist', $3, $4, $5, $5, $6, $7, case when $5 = 'done' then now() end)
                 on conflict (tenant_id, repository_id, source, external_key) do update set
                   project_id = excluded.project_id, title = excluded.title,
                   status = case when tasks.listed_status is distinct from excluded.listed_status
                                 then excluded.status else tasks.status end,
                   listed_status = excluded.listed_status,
                   section = excluded.section, parent_key = excluded.parent_key, removed_at = null,
                   closed_at = case
                     when tasks.listed_status is distinct from excluded.listed_status
                       then case when excluded.status = 'done' then coalesce(tasks.closed_at, now()) end
                     else tasks.closed_at end,
                   updated_at = now()
                 where (tasks.project_id, tasks.title, tasks.listed_status, tasks.section, tasks.parent_key, tasks.removed_at)
                   is distinct from (excluded.project_id, excluded.title, excluded.listed_status, excluded.section, excluded.parent_key, null)
                 returning true",
            )
            .bind(repository)
            .bind(ids[project.path.as_str()])
            .bind(&task.key)
            .bind(&task.title)
            .bind(status)
            .bind(&task.section)
            .bind(parent_key)
            .fetch_optional(&mut **tx)
            .await?;
            changed |= written.is_some();
            keys.push(task.key.clone());
        }
    }
    let removed = sqlx::query(
        "update tasks set removed_at = now(), updated_at = now()
         where repository_id = $1 and source = 'tasklist' and removed_at is null and not (external_key = any($2))",
    )
    .bind(repository)
    .bind(&keys)
    .execute(&mut **tx)
    .await?
    .rows_affected() as usize;
    Ok((keys.len(), changed || removed > 0, removed))
}

/// Texts as PostgreSQL stores them (see [`storable`]): what manifests and `.dashboard.toml` say
/// reaches the problems and tags.
fn all_storable(texts: &[String]) -> Vec<String> {
    texts.iter().map(|t| storable(t).into_owned()).collect()
}
