//! Unlinked work: commits linked to no task, tasks no commit is linked to, pull requests that reach
//! no task, and the linking rate (linked commits / commits) per repository and ISO week. Readable
//! by every member (viewer and up).

pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{OriginalUri, Query},
};
use dashboard_shared::{Error, domain::TaskSource};
use utoipa_axum::routes;

use self::model::{
    CommitFilter, CommitKey, LinkingRate, PullRequestFilter, RateQuery, TaskFilter, TaskKey,
    UnlinkedCommit, UnlinkedPullRequest, UnlinkedTask,
};
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

/// Weeks of the linking rate when the caller does not say.
const DEFAULT_WEEKS: u32 = 12;
/// The most weeks of the linking rate (two years).
const MAX_WEEKS: u32 = 104;

/// The routes of unlinked work.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(read, routes!(commits)),
        Route::documented(read, routes!(tasks)),
        Route::documented(read, routes!(pull_requests)),
        Route::documented(read, routes!(linking_rate)),
    ]
}

/// Commits linked to no task (suggestions do not count), newest first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/unlinked/commits",
    tag = "unlinked",
    params(("org" = String, Path, description = "The organization's slug"), CommitFilter, PageQuery),
    responses(
        (status = 200, description = "A page of commits; the next in `Link: rel=\"next\"`", body = [UnlinkedCommit]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range, or `since` after `until`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn commits(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<CommitFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<UnlinkedCommit>, Error> {
    let page = paging.parse::<CommitKey>()?;
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since > until
    {
        return Err(Error::Unprocessable(
            "since: must not be after until".into(),
        ));
    }
    let rows = db::list_unlinked_commits(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |c| (c.at, c.id)))
}

/// Tasks (task-list items and GitHub issues) that no commit is linked to, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/unlinked/tasks",
    tag = "unlinked",
    params(("org" = String, Path, description = "The organization's slug"), TaskFilter, PageQuery),
    responses(
        (status = 200, description = "A page of tasks; the next in `Link: rel=\"next\"`", body = [UnlinkedTask]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range, or `source=github_pr`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn tasks(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<TaskFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<UnlinkedTask>, Error> {
    let page = paging.parse::<TaskKey>()?;
    if filter.source == Some(TaskSource::GithubPr) {
        return Err(Error::Unprocessable(
            "source: pull requests are listed at unlinked/pull-requests".into(),
        ));
    }
    let rows = db::list_unlinked_tasks(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |t| (t.created_at, t.id)))
}

/// Pull requests that reach no task: none of their commits (the merge commit, once merged) is
/// linked to a task or an issue. Newest first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/unlinked/pull-requests",
    tag = "unlinked",
    params(("org" = String, Path, description = "The organization's slug"), PullRequestFilter, PageQuery),
    responses(
        (status = 200, description = "A page of pull requests; the next in `Link: rel=\"next\"`", body = [UnlinkedPullRequest]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn pull_requests(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<PullRequestFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<UnlinkedPullRequest>, Error> {
    let page = paging.parse::<TaskKey>()?;
    let rows = db::list_unlinked_pull_requests(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |p| (p.created_at, p.id)))
}

/// The share of commits linked to a task, per ISO week (UTC) and per repository.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/linking-rate",
    tag = "unlinked",
    params(("org" = String, Path, description = "The organization's slug"), RateQuery),
    responses(
        (status = 200, body = LinkingRate),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`weeks` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn linking_rate(
    mut member: Member,
    Query(query): Query<RateQuery>,
) -> Result<Json<LinkingRate>, Error> {
    let weeks = query.weeks.unwrap_or(DEFAULT_WEEKS);
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(Error::Unprocessable(format!(
            "weeks: must be between 1 and {MAX_WEEKS}, not {weeks}"
        )));
    }
    let rate = db::linking_rate(&mut member.tx, weeks, query.repository).await?;
    Ok(Json(rate))
}
