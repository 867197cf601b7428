//! Dead jobs, for admins: the organization's jobs that ran out of attempts, newest first, and
//! replaying one (back in its queue with fresh attempts). The queries are `shared::jobs`' (only it
//! touches the jobs table), on the member's tenant transaction.

use axum::{
    Json,
    extract::{OriginalUri, Path, Query, State},
};
use dashboard_shared::{
    Error,
    jobs::{self, DeadJob, DeadJobKey, Replayed},
};
use http::StatusCode;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{
    AppState,
    api::{
        Problem,
        pagination::{Page, PageQuery},
    },
    audit,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of dead jobs.
pub fn routes() -> Vec<Route> {
    let manage = Permission::Org(OrgPermission::ManageJobs);
    vec![
        Route::documented(manage, routes!(list_dead)),
        Route::documented(manage, routes!(replay)),
    ]
}

/// The organization's dead jobs (out of attempts), the latest to die first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/jobs/dead",
    tag = "jobs",
    params(("org" = String, Path, description = "The organization's slug"), PageQuery),
    responses(
        (status = 200, description = "A page of dead jobs; the next in `Link: rel=\"next\"`", body = [DeadJob]),
        (status = 400, description = "A malformed cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_dead(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(paging): Query<PageQuery>,
) -> Result<Page<DeadJob>, Error> {
    let page = paging.parse::<DeadJobKey>()?;
    let rows = jobs::list_dead_jobs(&mut member.tx, page.after, page.fetch()).await?;
    Ok(Page::new(rows, &page, uri, |job| (job.updated_at, job.id)))
}

/// A replayed job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayedJob {
    /// Its id (the same job, queued again).
    pub id: Uuid,
}

/// Puts a dead job back in its queue with fresh attempts.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/jobs/{id}/replay",
    tag = "jobs",
    params(("org" = String, Path, description = "The organization's slug"), ("id" = Uuid, Path, description = "The dead job's id")),
    responses(
        (status = 202, description = "Queued again", body = ReplayedJob),
        (status = 404, description = "No such dead job in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same work is queued already", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, id)): Path<(String, Uuid)>,
) -> Result<(StatusCode, Json<ReplayedJob>), Error> {
    match jobs::replay_dead_job(&mut member.tx, id).await? {
        Replayed::Queued => {}
        Replayed::NotFound => return Err(Error::NotFound),
        Replayed::AlreadyPending => {
            return Err(Error::Conflict(
                "the same work is queued already: this dead job stays as it is".into(),
            ));
        }
    }
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "job.replayed",
            target_type: "job",
            target_id: id.to_string(),
            details: json!({}),
        },
    )
    .await?;
    let enqueued = member.tx.commit().await?;
    state.transport.dispatch(&enqueued).await;
    Ok((StatusCode::ACCEPTED, Json(ReplayedJob { id })))
}
