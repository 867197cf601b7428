//! Repositories: the list with each one's sync health (every member reads it), and for admins
//! connecting any git remote by URL (under the deployment's remote policy and the plan's limit),
//! syncing one now, changing its poll interval and disconnecting it. The GitHub App's repositories
//! come through `api::github`; disconnecting any repository is [`db::disconnect_repository`] (after
//! deleting the webhook a repository connected without the App has on GitHub).

pub mod connection;
pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{OriginalUri, Path, Query, State},
};
use dashboard_shared::Error;
use http::StatusCode;
use serde_json::json;
use utoipa_axum::routes;
use uuid::Uuid;

use self::{
    db::Connection,
    model::{
        NewRepository, Repository, RepositoryChange, RepositoryFilter, RepositoryKey, SyncStarted,
    },
};
use crate::{
    AppState,
    api::{
        Problem, github,
        pagination::{Page, PageQuery},
    },
    audit,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of repositories.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    let manage = Permission::Org(OrgPermission::ManageRepositories);
    vec![
        Route::documented(read, routes!(list)),
        Route::documented(read, routes!(show)),
        Route::documented(manage, routes!(connect)),
        Route::documented(manage, routes!(change)),
        Route::documented(manage, routes!(sync)),
        Route::documented(manage, routes!(disconnect)),
    ]
}

/// The organization's repositories with their sync health, by name.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/repositories",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug"), RepositoryFilter, PageQuery),
    responses(
        (status = 200, description = "A page of repositories; the next in `Link: rel=\"next\"`", body = [Repository]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<RepositoryFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<Repository>, Error> {
    let page = paging.parse::<RepositoryKey>()?;
    let rows = db::list_repositories(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |r| (r.name.clone(), r.id)))
}

/// A repository with its sync health.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/repositories/{id}",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The repository's id")),
    responses(
        (status = 200, body = Repository),
        (status = 404, description = "No such repository in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<Json<Repository>, Error> {
    let repository = db::find_repository(&mut member.tx, id).await?;
    repository.map(Json).ok_or(Error::NotFound)
}

/// Connects any git remote by URL (with a token or an SSH key for a private one) and polls it.
/// Connecting a URL again answers the same repository (with the new credential, if one is given).
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/repositories",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = NewRepository,
    responses(
        (status = 201, description = "Connected; its first poll is queued", body = Repository),
        (status = 200, description = "Connected already", body = Repository),
        (status = 409, description = "The plan's repository limit is reached", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (named first): a URL the remote policy refuses, a credential that does not fit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn connect(
    State(state): State<AppState>,
    mut member: Member,
    Json(new): Json<NewRepository>,
) -> Result<(StatusCode, Json<Repository>), Error> {
    let connection = Connection::parse(state.config.remotes, new)?;
    let connected =
        db::connect_repository(&mut member.tx, &state.config.secrets, &connection).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: if connected.new {
                "repository.connected"
            } else {
                "repository.reconnected"
            },
            target_type: "repository",
            target_id: connected.id.to_string(),
            details: json!({
                "name": connection.remote.name,
                "credential": connection.credential.is_some(),
            }),
        },
    )
    .await?;
    let repository = db::find_repository(&mut member.tx, connected.id)
        .await?
        .ok_or(Error::NotFound)?;
    let jobs = member.tx.commit().await?;
    state.transport.dispatch(&jobs).await;
    let status = if connected.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(repository)))
}

/// Changes how often a `git` remote is polled.
#[utoipa::path(
    patch,
    path = "/api/v2/orgs/{org}/repositories/{id}",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The repository's id")),
    request_body = RepositoryChange,
    responses(
        (status = 200, body = Repository),
        (status = 404, description = "No such repository in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An interval out of range, or a repository that is not polled", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change(
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
    Json(change): Json<RepositoryChange>,
) -> Result<Json<Repository>, Error> {
    let Some(seconds) = change.poll_interval else {
        return Err(Error::Unprocessable(
            "poll_interval: required (seconds, 30 to 86400)".into(),
        ));
    };
    if !db::set_poll_interval(&mut member.tx, id, seconds).await? {
        return Err(Error::NotFound);
    }
    let repository = db::find_repository(&mut member.tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    member.tx.commit().await?;
    Ok(Json(repository))
}

/// Syncs a repository now: a poll of a `git` remote, a scan of a GitHub repository.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/repositories/{id}/sync",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The repository's id")),
    responses(
        (status = 202, description = "Queued: the job that syncs it", body = SyncStarted),
        (status = 404, description = "No such repository in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sync(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<(StatusCode, Json<SyncStarted>), Error> {
    let job_id = db::sync_repository(&mut member.tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let jobs = member.tx.commit().await?;
    state.transport.dispatch(&jobs).await;
    Ok((StatusCode::ACCEPTED, Json(SyncStarted { job_id })))
}

/// Disconnects a repository: its projects, tasks, commits and links are deleted with it.
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/repositories/{id}",
    tag = "repositories",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The repository's id")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "No such repository in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    // A repository connected without the App has a webhook of ours on GitHub: deleted first, with
    // the token stored with it (GitHub failing does not keep the repository: its deliveries are
    // refused once the row is gone).
    let webhook = github::disconnect_webhook(
        &mut member.tx,
        &state.config.github,
        &state.config.secrets,
        id,
    )
    .await?;
    let removed = db::disconnect_repository(&mut member.tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "repository.disconnected",
            target_type: "repository",
            target_id: removed.id.to_string(),
            details: json!({
                "name": removed.name,
                "provider": removed.provider,
                "webhook": webhook.in_words(),
            }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
