//! The queries of projects, each on the caller's tenant transaction (row-level security decides
//! what is visible; another organization's id finds nothing).

use std::collections::HashMap;

use dashboard_shared::TenantTx;
use uuid::Uuid;

use super::model::{
    CommitBrief, Project, ProjectDetail, ProjectFilter, ProjectKey, ProjectNode, TaskCounts,
};
use crate::api::{contains_pattern, pagination::PageRequest};

/// A page of projects matching `filter`, by repository name, directory and id.
pub async fn list_projects(
    tx: &mut TenantTx,
    filter: &ProjectFilter,
    page: &PageRequest<ProjectKey>,
) -> Result<Vec<Project>, sqlx::Error> {
    let q = filter.q.as_deref().map(contains_pattern);
    let after = page.after.as_ref();
    sqlx::query_as!(
        Project,
        // Each repository's first projects by path (its unique index), then the page across
        // repositories by name: a page reads about limit × repositories index entries instead of
        // sorting every project of the organization (scripts/bench-api: 10,000 projects).
        r#"select p.id, p.repository_id, r.full_name as repository, p.path, p.type as kind,
                  p.types, p.name, p.version, p.description, p.manifests, p.tags, p.parent_id,
                  (select pp.path from projects pp where pp.id = p.parent_id) as "parent_path?",
                  p.task_count, p.tasks_done, p.todo_count, p.fixme_count, p.updated_at
           from repositories r
           cross join lateral (
             select p.* from projects p
             where p.repository_id = r.id and p.removed_at is null
               and ($2::text is null or $2 = any(p.types))
               and ($3::text is null or $3 = any(p.tags))
               and ($4::uuid is null or p.parent_id = $4)
               and ($5::text is null or p.name ilike $5 or p.path ilike $5)
               and ($6::text is null or (r.full_name, p.path, p.id) > ($6, $7, $8::uuid))
             order by p.path
             limit $9
           ) p
           where not r.archived
             and ($1::uuid is null or r.id = $1)
             and ($6::text is null or r.full_name >= $6)
           order by r.full_name, p.path, p.id
           limit $9"#,
        filter.repository,
        filter.kind,
        filter.tag,
        filter.parent,
        q,
        after.map(|k| k.0.as_str()),
        after.map(|k| k.1.as_str()),
        after.map(|k| k.2),
        page.fetch(),
    )
    .fetch_all(&mut **tx)
    .await
}

/// The project `id` with its task counts, sub-projects and recent commits.
pub async fn find_project(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<ProjectDetail>, sqlx::Error> {
    let project = sqlx::query_as!(
        Project,
        r#"select p.id, p.repository_id, r.full_name as repository, p.path, p.type as kind,
                  p.types, p.name, p.version, p.description, p.manifests, p.tags, p.parent_id,
                  pp.path as "parent_path?", p.task_count, p.tasks_done, p.todo_count,
                  p.fixme_count, p.updated_at
           from projects p
           join repositories r on r.id = p.repository_id
           left join projects pp on pp.id = p.parent_id
           where p.id = $1 and p.removed_at is null and not r.archived"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(project) = project else {
        return Ok(None);
    };
    let tasks = sqlx::query_as!(
        TaskCounts,
        r#"select count(*) filter (where status = 'open') as "open!",
                  count(*) filter (where status = 'in_progress') as "in_progress!",
                  count(*) filter (where status = 'done') as "done!",
                  count(*) filter (where status = 'cancelled') as "cancelled!"
           from tasks where project_id = $1 and removed_at is null"#,
        id
    )
    .fetch_one(&mut **tx)
    .await?;
    let children = sqlx::query_as!(
        Project,
        r#"select p.id, p.repository_id, r.full_name as repository, p.path, p.type as kind,
                  p.types, p.name, p.version, p.description, p.manifests, p.tags, p.parent_id,
                  $2::text as "parent_path?", p.task_count, p.tasks_done, p.todo_count,
                  p.fixme_count, p.updated_at
           from projects p join repositories r on r.id = p.repository_id
           where p.parent_id = $1 and p.removed_at is null
           order by p.path, p.id"#,
        id,
        project.path
    )
    .fetch_all(&mut **tx)
    .await?;
    // Files under the directory: everything at the root, `dir/…` below it.
    let under = (!project.path.is_empty()).then(|| format!("{}/%", like_literal(&project.path)));
    let recent_commits = sqlx::query!(
        r#"select c.sha, c.message, c.author_name, c.committed_at
           from commits c
           where c.repository_id = $1
             and ($2::text is null or exists (select 1 from unnest(c.changed_paths) f where f like $2))
           order by c.committed_at desc nulls last, c.sha
           limit 10"#,
        project.repository_id,
        under
    )
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|c| CommitBrief {
        title: c.message.lines().next().unwrap_or_default().to_owned(),
        sha: c.sha,
        author_name: c.author_name,
        committed_at: c.committed_at,
    })
    .collect();
    Ok(Some(ProjectDetail {
        project,
        tasks,
        children,
        recent_commits,
    }))
}

/// `text` with `%`, `_` and `\` taken literally in a `like` pattern.
fn like_literal(text: &str) -> String {
    let pattern = contains_pattern(text);
    pattern[1..pattern.len() - 1].to_owned()
}

/// The project tree of every repository, or of `repository`: roots first, children in path order;
/// a project whose parent is gone stays at the top, not lost.
pub async fn project_tree(
    tx: &mut TenantTx,
    repository: Option<Uuid>,
) -> Result<Vec<ProjectNode>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select p.id, p.parent_id, r.full_name as repository, p.path, p.type as kind, p.types, p.name,
                  p.version, p.task_count, p.tasks_done, p.todo_count, p.fixme_count
           from projects p join repositories r on r.id = p.repository_id
           where p.removed_at is null and not r.archived
             and ($1::uuid is null or p.repository_id = $1)
           order by r.full_name, p.path, p.id"#,
        repository
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut nodes: Vec<Option<ProjectNode>> = Vec::with_capacity(rows.len());
    let mut index = HashMap::with_capacity(rows.len());
    let mut parent_ids = Vec::with_capacity(rows.len());
    for row in rows {
        index.insert(row.id, nodes.len());
        parent_ids.push(row.parent_id);
        nodes.push(Some(ProjectNode {
            completion: (row.task_count > 0)
                .then(|| f64::from(row.tasks_done) / f64::from(row.task_count)),
            id: row.id,
            repository: row.repository,
            path: row.path,
            kind: row.kind,
            types: row.types,
            name: row.name,
            version: row.version,
            tasks: row.task_count,
            tasks_done: row.tasks_done,
            todo_count: row.todo_count,
            fixme_count: row.fixme_count,
            children: Vec::new(),
        }));
    }
    let path_len = |i: usize| nodes[i].as_ref().map_or(0, |n| n.path.len());
    // A parent's directory is shorter than its child's; any other parent (gone, or inconsistent
    // data) leaves the project at the top, so the tree has no cycle and nothing is lost.
    let parents: Vec<Option<usize>> = parent_ids
        .iter()
        .enumerate()
        .map(|(i, parent)| {
            parent
                .and_then(|p| index.get(&p).copied())
                .filter(|&j| path_len(j) < path_len(i))
        })
        .collect();
    // Deepest first, so each project holds all its children before it moves into its parent; no
    // recursion, so a deep tree costs no stack.
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(path_len(i)));
    let mut roots = Vec::new();
    for i in order {
        let Some(mut node) = nodes[i].take() else {
            continue;
        };
        node.children.sort_by(|a, b| a.path.cmp(&b.path));
        match parents[i].and_then(|j| nodes[j].as_mut()) {
            Some(parent) => parent.children.push(node),
            None => roots.push(node),
        }
    }
    roots.sort_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
    Ok(roots)
}
