//! Projects: the flat list with filters, one project with its tasks, sub-projects and recent
//! commits, and the tree of a repository. Readable by every member (viewer and up).

pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{OriginalUri, Path, Query},
};
use dashboard_shared::Error;
use utoipa_axum::routes;
use uuid::Uuid;

use self::model::{Project, ProjectDetail, ProjectFilter, ProjectKey, ProjectNode};
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

/// The routes of projects.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(read, routes!(list)),
        Route::documented(read, routes!(show)),
        Route::documented(read, routes!(tree)),
    ]
}

/// The organization's projects, by repository and directory.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/projects",
    tag = "projects",
    params(("org" = String, Path, description = "The organization's slug"), ProjectFilter, PageQuery),
    responses(
        (status = 200, description = "A page of projects; the next in `Link: rel=\"next\"`", body = [Project]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<ProjectFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<Project>, Error> {
    let page = paging.parse::<ProjectKey>()?;
    let rows = db::list_projects(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |p| {
        (p.repository.clone(), p.path.clone(), p.id)
    }))
}

/// A project with its task counts, sub-projects and recent commits.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/projects/{id}",
    tag = "projects",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The project's id")),
    responses(
        (status = 200, body = ProjectDetail),
        (status = 404, description = "No such project in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<Json<ProjectDetail>, Error> {
    let project = db::find_project(&mut member.tx, id).await?;
    project.map(Json).ok_or(Error::NotFound)
}

/// A repository's projects as a tree (roots first, children by directory).
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/repositories/{id}/projects/tree",
    tag = "projects",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The repository's id")),
    responses(
        (status = 200, body = [ProjectNode]),
        (status = 404, description = "No such repository in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn tree(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<Json<Vec<ProjectNode>>, Error> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from repositories where id = $1 and not archived) as "exists!""#,
        id
    )
    .fetch_one(&mut *member.tx)
    .await?;
    if !exists {
        return Err(Error::NotFound);
    }
    Ok(Json(db::project_tree(&mut member.tx, Some(id)).await?))
}
