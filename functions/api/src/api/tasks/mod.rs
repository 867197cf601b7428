//! Tasks: the list with filters and full-text search (PostgreSQL's, over titles and bodies), and
//! one task with its linked commits and the commits suggested for it, each with why. Readable by
//! every member (viewer and up).

pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{OriginalUri, Path, Query},
};
use dashboard_shared::Error;
use utoipa_axum::routes;
use uuid::Uuid;

use self::model::{Task, TaskDetail, TaskFilter, TaskKey};
use crate::{
    api::{
        Problem,
        pagination::{Page, PageQuery},
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of tasks.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(read, routes!(list)),
        Route::documented(read, routes!(show)),
    ]
}

/// The organization's tasks: with `q`, the best matches first; otherwise by repository, source
/// and key.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/tasks",
    tag = "tasks",
    params(("org" = String, Path, description = "The organization's slug"), TaskFilter, PageQuery),
    responses(
        (status = 200, description = "A page of tasks; the next in `Link: rel=\"next\"`", body = [Task]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A search text or a limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<TaskFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<Task>, Error> {
    let q = filter.search()?;
    let page = paging.parse::<TaskKey>()?;
    let rows = db::list_tasks(&mut member.tx, &filter, q, &page).await?;
    Ok(Page::new(rows, &page, uri, |t| {
        (
            t.rank.unwrap_or(0.0),
            t.repository_id,
            t.source,
            t.key.clone(),
        )
    }))
}

/// A task with its body, the commits linked to it and the commits suggested for it: for each, how
/// the link was made, what the commit does to the task, how sure the linker is, and why (the
/// reference the commit wrote, or the terms they share).
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/tasks/{id}",
    tag = "tasks",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The task's id")),
    responses(
        (status = 200, body = TaskDetail),
        (status = 404, description = "No such task in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<Json<TaskDetail>, Error> {
    let task = db::find_task(&mut member.tx, id).await?;
    task.map(Json).ok_or(Error::NotFound)
}
