//! The project tree of every repository (collapsible, with type and ecosystem badges, completion
//! bars, TODO/FIXME counts) and a project's page (its tasks, recent commits, sub-projects and its
//! burn-up).

use askama::Template;
use axum::{
    Extension,
    extract::{OriginalUri, Path, Query},
    response::Response,
    routing::get,
};
use chrono::{DateTime, Utc};
use dashboard_shared::Error;
use http::Method;
use uuid::Uuid;

use super::{
    charts::{self, BurnUp},
    csrf::CsrfToken,
    layout::{Chrome, render},
};
use crate::{
    api::{
        pagination::PageQuery,
        projects::{
            self as api,
            model::{ProjectDetail, ProjectNode},
        },
        tasks::{
            self as tasks_api,
            model::{Task, TaskFilter},
        },
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::new(Method::GET, "/orgs/{org}/projects", read, get(tree)),
        Route::new(Method::GET, "/orgs/{org}/projects/{id}", read, get(project)),
    ]
}

/// One step of drawing the tree as nested lists.
pub enum TreeItem {
    /// A repository's heading.
    Repository(String),
    /// A project with children (how many): opens its list.
    Open(ProjectNode, String, usize),
    /// A project without children.
    Leaf(ProjectNode, String),
    /// Closes the list of the last opened project.
    Close,
}

/// `nodes` flattened, depth first, with each project's completion bar.
fn flatten(nodes: Vec<ProjectNode>, items: &mut Vec<TreeItem>) {
    for mut node in nodes {
        let children = std::mem::take(&mut node.children);
        let bar = completion(&node);
        if children.is_empty() {
            items.push(TreeItem::Leaf(node, bar));
        } else {
            items.push(TreeItem::Open(node, bar, children.len()));
            flatten(children, items);
            items.push(TreeItem::Close);
        }
    }
}

/// The completion bar of a project ("" without tasks).
fn completion(node: &ProjectNode) -> String {
    if node.tasks == 0 {
        return String::new();
    }
    meter(node.tasks_done, node.tasks)
}

/// A small bar: `done` of `all`, as SVG.
pub fn meter(done: i32, all: i32) -> String {
    let percent = f64::from(done) / f64::from(all.max(1)) * 100.0;
    format!(
        r#"<svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="{done} of {all} tasks done"><rect class="track" width="100" height="8" rx="4"/><rect class="fill" width="{percent:.1}" height="8" rx="4"/></svg>"#
    )
}

#[derive(Template)]
#[template(path = "projects.html")]
struct TreePage {
    chrome: Chrome,
    items: Vec<TreeItem>,
    count: usize,
}

async fn tree(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Projects", "projects").await?;
    let roots = api::db::project_tree(&mut member.tx, None).await?;
    let mut items = Vec::new();
    let mut count = 0;
    let mut repository = None::<String>;
    for root in roots {
        count += 1 + descendants(&root);
        if repository.as_deref() != Some(root.repository.as_str()) {
            repository = Some(root.repository.clone());
            items.push(TreeItem::Repository(root.repository.clone()));
        }
        flatten(vec![root], &mut items);
    }
    Ok(render(&TreePage {
        chrome,
        items,
        count,
    }))
}

fn descendants(node: &ProjectNode) -> usize {
    node.children.iter().map(|c| 1 + descendants(c)).sum()
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    detail: ProjectDetail,
    tasks: Vec<Task>,
    more_tasks: Option<String>,
    burn_up: String,
    /// When the burn-up starts (its first task), and its highest count.
    burn_since: String,
    burn_max: i64,
    bar: String,
}

/// The most tasks a burn-up reads.
const MAX_BURN_UP_TASKS: i64 = 20_000;
/// Points on a burn-up.
const BURN_UP_POINTS: usize = 30;

async fn project(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    OriginalUri(uri): OriginalUri,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    let mut chrome = Chrome::member(&mut member, &csrf, "Project", "projects").await?;
    let detail = api::db::find_project(&mut member.tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    chrome.title = detail
        .project
        .name
        .clone()
        .unwrap_or_else(|| detail.project.path.clone());
    let dates: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select created_at, closed_at from tasks
         where project_id = $1 and removed_at is null limit $2",
    )
    .bind(id)
    .bind(MAX_BURN_UP_TASKS)
    .fetch_all(&mut *member.tx)
    .await?;
    let series = burn_up(&dates, Utc::now());
    let burn_up = if dates.is_empty() {
        String::new()
    } else {
        charts::svg(&BurnUp::new(
            format!("Tasks known and done over time in {}", chrome.title),
            &series,
        ))
    };
    let burn_since = dates
        .iter()
        .map(|d| d.0)
        .min()
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let burn_max = series.iter().map(|s| s.0).max().unwrap_or(0);
    let filter = TaskFilter {
        project: Some(id),
        ..TaskFilter::default()
    };
    let paging = PageQuery {
        limit: Some(50),
        cursor: None,
    };
    let page = tasks_api::list(member, OriginalUri(uri), Query(filter), Query(paging)).await?;
    let (tasks, next) = page.into_rows();
    let more_tasks = next.map(|_| format!("/orgs/{org}/tasks?project={id}"));
    let bar = meter(detail.project.tasks_done, detail.project.task_count);
    Ok(render(&ProjectPage {
        chrome,
        tasks,
        more_tasks,
        burn_up,
        burn_since,
        burn_max,
        bar,
        detail,
    }))
}

/// Tasks known and done at [`BURN_UP_POINTS`] moments from the first task's creation to `now`.
fn burn_up(
    dates: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
) -> Vec<(i64, i64)> {
    let Some(start) = dates.iter().map(|d| d.0).min() else {
        return Vec::new();
    };
    let span = (now - start).num_seconds().max(1);
    (0..BURN_UP_POINTS)
        .map(|i| {
            let at =
                start + chrono::Duration::seconds(span * i as i64 / (BURN_UP_POINTS as i64 - 1));
            let known = dates.iter().filter(|d| d.0 <= at).count() as i64;
            let done = dates
                .iter()
                .filter(|d| d.1.is_some_and(|closed| closed <= at))
                .count() as i64;
            (known, done)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_burn_up_counts_tasks_known_and_done_up_to_each_moment() {
        let day = |d| Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap();
        let dates = [
            (day(1), Some(day(10))),
            (day(5), None),
            (day(20), Some(day(29))),
        ];
        let series = burn_up(&dates, day(30));
        assert_eq!(series.len(), BURN_UP_POINTS);
        assert_eq!(series[0], (1, 0));
        assert_eq!(*series.last().unwrap(), (3, 2));
        assert!(
            series
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        assert!(burn_up(&[], day(30)).is_empty());
    }
}
