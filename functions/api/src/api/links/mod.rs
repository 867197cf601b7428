//! Links made and unmade by people: link a commit to a task by hand (also how a suggestion is
//! confirmed), remove a link for good, link everything again (`POST …/link-commit-tasks`, a fixed
//! path scripts use: 202 with the job to poll) and the state of that job. Members and up change
//! links; every member reads jobs.

pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};
use dashboard_shared::Error;
use utoipa_axum::routes;
use uuid::Uuid;

use self::model::{AddedLink, Job, NewLink, RelinkRequest};
use crate::{
    AppState,
    api::Problem,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of links and jobs.
pub fn routes() -> Vec<Route> {
    let write = Permission::Org(OrgPermission::WriteData);
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(write, routes!(add)),
        Route::documented(write, routes!(remove)),
        Route::documented(write, routes!(relink)),
        Route::documented(read, routes!(job)),
    ]
}

/// Links a commit to a task by hand: a suggestion is confirmed, any other link of the pair
/// replaced, a removed one restored. The commit then gets no similarity link from the linker.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/links",
    tag = "links",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = NewLink,
    responses(
        (status = 201, description = "A new link", body = AddedLink),
        (status = 200, description = "The pair was linked, suggested or removed before: now by hand (`previous` says how it was)", body = AddedLink),
        (status = 422, description = "A commit or task that is not one of this organization's, or not a commit or task at all (the field is named)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add(mut member: Member, Json(new): Json<NewLink>) -> Result<Response, Error> {
    let commit = db::find_commit(&mut member.tx, &new.commit).await?;
    let task = db::find_task(&mut member.tx, commit.repository_id, &new.task).await?;
    let added = db::add_link(&mut member.tx, Some(member.account), &commit, task).await?;
    member.tx.commit().await?;
    let status = if added.previous.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(added)).into_response())
}

/// Removes a link for good: it is kept as removed (`rejected`), so relinking never brings it back
/// (linking the pair by hand does).
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/links/{commit_id}/{task_id}",
    tag = "links",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("commit_id" = Uuid, Path, description = "The commit's id"),
        ("task_id" = Uuid, Path, description = "The task's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such link in this organization (or removed already)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove(
    mut member: Member,
    Path((_org, commit, task)): Path<(String, Uuid, Uuid)>,
) -> Result<StatusCode, Error> {
    if !db::remove_link(&mut member.tx, Some(member.account), commit, task).await? {
        return Err(Error::NotFound);
    }
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Links every commit again (after tasks changed), of all repositories or the one named: answered
/// at once with the job that does it (or the one already waiting to), to poll at `Location`.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/link-commit-tasks",
    tag = "links",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body(content = Option<RelinkRequest>, description = "Optional: `{\"repository\": id}` for one repository"),
    responses(
        (status = 202, description = "The job, also at `Location`", body = Job,
         headers(("Location" = String, description = "The job's address"))),
        (status = 422, description = "A repository that is not one of this organization's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn relink(
    State(state): State<AppState>,
    mut member: Member,
    body: Option<Json<Option<RelinkRequest>>>,
) -> Result<Response, Error> {
    let request = body.and_then(|Json(request)| request).unwrap_or_default();
    let job = db::request_relink(&mut member.tx, request.repository).await?;
    let enqueued = member.tx.commit().await?;
    state.transport.dispatch(&enqueued).await;
    let location = format!("/api/v2/orgs/{}/jobs/{}", member.org.slug, job.id);
    let mut response = (StatusCode::ACCEPTED, Json(job)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// A job of the organization: where it stands, how many runs failed, the last error in words.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/jobs/{id}",
    tag = "links",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The job's id")),
    responses(
        (status = 200, body = Job),
        (status = 404, description = "No such job in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn job(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<Json<Job>, Error> {
    let job = db::find_job(&mut member.tx, id).await?;
    job.map(Json).ok_or(Error::NotFound)
}
