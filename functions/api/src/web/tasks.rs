//! Tasks: the list with its filters (project, repository, status, source, linked or not, text
//! search) and a task's page with the commits linked to it and those suggested for it.

use askama::Template;
use axum::{
    Extension,
    extract::{OriginalUri, Path, Query},
    response::Response,
    routing::get,
};
use dashboard_shared::{
    Error,
    domain::{TaskSource, TaskStatus},
};
use http::Method;
use uuid::Uuid;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, FilterQuery, filled, render},
};
use crate::{
    api::{
        pagination::{PageQuery, PageRequest},
        projects::{db::list_projects, model::ProjectFilter},
        tasks::{
            self as api,
            model::{Task, TaskDetail, TaskFilter},
        },
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The most projects the filter offers (an organization with more filters from a project's page).
const MAX_PROJECT_CHOICES: u32 = 200;

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::new(Method::GET, "/orgs/{org}/tasks", read, get(list)),
        Route::new(Method::GET, "/orgs/{org}/tasks/{id}", read, get(show)),
    ]
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    tasks: Vec<Task>,
    next: Option<String>,
    query: Vec<(String, String)>,
    statuses: &'static [TaskStatus],
    sources: &'static [TaskSource],
    /// The projects to filter by: id and label.
    projects: Vec<(String, String)>,
}

impl TasksPage {
    fn filled(&self, name: &str) -> String {
        filled(&self.query, name)
    }
}

async fn list(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    OriginalUri(uri): OriginalUri,
    FilterQuery(filter): FilterQuery<TaskFilter>,
    FilterQuery(paging): FilterQuery<PageQuery>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Tasks", "tasks").await?;
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let first = PageRequest {
        limit: MAX_PROJECT_CHOICES,
        after: None,
    };
    let projects = list_projects(&mut member.tx, &ProjectFilter::default(), &first)
        .await?
        .into_iter()
        .take(MAX_PROJECT_CHOICES as usize)
        .map(|p| {
            let name = p.name.unwrap_or_else(|| p.path.clone());
            (p.id.to_string(), format!("{} · {name}", p.repository))
        })
        .collect();
    let page = api::list(member, OriginalUri(uri), Query(filter), Query(paging)).await?;
    let (tasks, next) = page.into_rows();
    Ok(render(&TasksPage {
        chrome,
        tasks,
        next,
        query,
        statuses: TaskStatus::ALL,
        sources: TaskSource::ALL,
        projects,
    }))
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    chrome: Chrome,
    detail: TaskDetail,
}

async fn show(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    let mut chrome = Chrome::member(&mut member, &csrf, "Task", "tasks").await?;
    let axum::Json(detail) = api::show(member, Path((org, id))).await?;
    chrome.title = format!("{} {}", detail.task.key, detail.task.title);
    Ok(render(&TaskPage { chrome, detail }))
}
