//! Commits: the list with filters (newest first), and one commit, named by its SHA or a prefix of
//! one, with its links — how each was made and why. Readable by every member (viewer and up).
//!
//! A SHA names one commit of the organization, or it is refused: a prefix several commits share,
//! or a SHA in two repositories (a fork and its upstream), answers 409 with the candidates and
//! their repositories; `?repository=` chooses one.

pub mod db;
pub mod model;

use axum::{
    Json,
    extract::{OriginalUri, Path, Query},
};
use dashboard_shared::Error;
use utoipa_axum::routes;

use self::model::{Commit, CommitDetail, CommitFilter, CommitKey, ShaQuery, parse_sha};
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

/// The candidates a 409 lists at most.
const MAX_CANDIDATES: i64 = 10;

/// The routes of commits.
pub fn routes() -> Vec<Route> {
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(read, routes!(list)),
        Route::documented(read, routes!(show)),
    ]
}

/// The organization's commits, newest first, each with its links and suggestions.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/commits",
    tag = "commits",
    params(("org" = String, Path, description = "The organization's slug"), CommitFilter, PageQuery),
    responses(
        (status = 200, description = "A page of commits; the next in `Link: rel=\"next\"`", body = [Commit]),
        (status = 400, description = "A malformed filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time that is not RFC 3339, times out of order, a limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(filter): Query<CommitFilter>,
    Query(paging): Query<PageQuery>,
) -> Result<Page<Commit>, Error> {
    let filter = filter.check()?;
    let page = paging.parse::<CommitKey>()?;
    let rows = db::list_commits(&mut member.tx, &filter, &page).await?;
    Ok(Page::new(rows, &page, uri, |c| (c.dated_at, c.id)))
}

/// A commit with its message, changed files and links: for each, how it was made (method), what
/// the commit does to the task (relation), how sure the linker is (confidence), whether it is in
/// force (state), and why (the reference, or the shared terms).
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/commits/{sha}",
    tag = "commits",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("sha" = String, Path, description = "The commit's SHA, or an unambiguous prefix of at least 7 hex digits", pattern = "^[0-9a-fA-F]{7,64}$"),
        ShaQuery,
    ),
    responses(
        (status = 200, body = CommitDetail),
        (status = 404, description = "No such commit in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The SHA names several commits (a short prefix, or one SHA in several repositories): the detail lists them with their repositories", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a SHA or a prefix of 7 to 64 hex digits", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    mut member: Member,
    Path((_org, sha)): Path<(String, String)>,
    Query(query): Query<ShaQuery>,
) -> Result<Json<CommitDetail>, Error> {
    let prefix = parse_sha(&sha)?;
    let candidates = db::match_sha(
        &mut member.tx,
        &prefix,
        query.repository,
        MAX_CANDIDATES + 1,
    )
    .await?;
    let id = match candidates.as_slice() {
        [] => return Err(Error::NotFound),
        [one] => one.id,
        several => {
            let listed: Vec<String> = several
                .iter()
                .take(MAX_CANDIDATES as usize)
                .map(|c| format!("{} in {} ({})", c.sha, c.repository, c.repository_id))
                .collect();
            let more = if several.len() as i64 > MAX_CANDIDATES {
                ", and more"
            } else {
                ""
            };
            return Err(Error::Conflict(format!(
                "sha: {prefix} names several commits: {}{more}; give more of the SHA, or the \
                 repository as ?repository=",
                listed.join(", ")
            )));
        }
    };
    let commit = db::find_commit(&mut member.tx, id).await?;
    commit.map(Json).ok_or(Error::NotFound)
}
