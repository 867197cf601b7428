//! Commits: the list with its filters, a commit's page with each link's method, confidence and
//! why (the reference it wrote, or the terms it shares with the task), confirm and reject for
//! suggestions, and "link to task…".

use askama::Template;
use axum::{
    Extension, Form, Json,
    extract::{OriginalUri, Path, Query},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use dashboard_shared::Error;
use http::Method;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, FilterQuery, filled, render},
};
use crate::{
    api::{
        commits::{
            self as api,
            model::{Commit, CommitDetail, CommitFilter, ShaQuery},
        },
        links::{self, model::NewLink},
        pagination::PageQuery,
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    use OrgPermission::{ReadData, WriteData};
    vec![
        Route::new(
            Method::GET,
            "/orgs/{org}/commits",
            Permission::Org(ReadData),
            get(list),
        ),
        Route::new(
            Method::GET,
            "/orgs/{org}/commits/{sha}",
            Permission::Org(ReadData),
            get(show),
        ),
        Route::new(
            Method::POST,
            "/orgs/{org}/links",
            Permission::Org(WriteData),
            post(link),
        ),
        Route::new(
            Method::POST,
            "/orgs/{org}/links/{commit_id}/{task_id}/reject",
            Permission::Org(WriteData),
            post(reject),
        ),
    ]
}

#[derive(Template)]
#[template(path = "commits.html")]
struct CommitsPage {
    chrome: Chrome,
    commits: Vec<Commit>,
    next: Option<String>,
    query: Vec<(String, String)>,
}

impl CommitsPage {
    fn filled(&self, name: &str) -> String {
        filled(&self.query, name)
    }

    /// The `since` filter's day, for the date field.
    fn since_day(&self) -> String {
        self.filled("since").chars().take(10).collect()
    }
}

/// A date field's day (`2026-01-31`) as the start of that day in UTC, as the API takes times.
fn day_start(since: Option<String>) -> Option<String> {
    since.map(|s| {
        if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
            format!("{s}T00:00:00Z")
        } else {
            s
        }
    })
}

async fn list(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    OriginalUri(uri): OriginalUri,
    FilterQuery(mut filter): FilterQuery<CommitFilter>,
    FilterQuery(paging): FilterQuery<PageQuery>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Commits", "commits").await?;
    filter.since = day_start(filter.since);
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let page = api::list(member, OriginalUri(uri), Query(filter), Query(paging)).await?;
    let (commits, next) = page.into_rows();
    Ok(render(&CommitsPage {
        chrome,
        commits,
        next,
        query,
    }))
}

#[derive(Template)]
#[template(path = "commit.html")]
struct CommitPage {
    chrome: Chrome,
    detail: CommitDetail,
    error: Option<String>,
}

async fn show(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((org, sha)): Path<(String, String)>,
    FilterQuery(query): FilterQuery<ShaQuery>,
    FilterQuery(flash): FilterQuery<Flash>,
) -> Result<Response, Error> {
    let mut chrome = Chrome::member(&mut member, &csrf, "Commit", "commits").await?;
    let Json(detail) = api::show(member, Path((org, sha)), Query(query)).await?;
    chrome.title = format!("{} {}", short(&detail.commit.sha), detail.commit.title);
    Ok(render(&CommitPage {
        chrome,
        detail,
        error: flash.error.as_deref().and_then(flash_message),
    }))
}

/// A message carried to the page a form returns to.
#[derive(Deserialize)]
struct Flash {
    error: Option<String>,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// "Link to task…" and "confirm" (a suggestion made a link in force).
#[derive(Deserialize)]
struct LinkForm {
    commit: String,
    task: String,
}

async fn link(
    member: Member,
    Path(org): Path<String>,
    Form(form): Form<LinkForm>,
) -> Result<Response, Error> {
    let back = format!("/orgs/{org}/commits/{}", form.commit.trim());
    let new = NewLink {
        commit: form.commit.trim().to_owned(),
        task: form.task.trim().to_owned(),
    };
    match links::add(member, Json(new)).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        // The page says what went wrong in its own words: the address carries a code, never text
        // a link could make the page say.
        Err(Error::NotFound | Error::Unprocessable(_) | Error::BadRequest(_)) => {
            Ok(Redirect::to(&format!("{back}?error=task")).into_response())
        }
        Err(other) => Err(other),
    }
}

/// What a code of [`Flash`] says.
fn flash_message(code: &str) -> Option<String> {
    (code == "task").then(|| {
        "No task with that key or number in this commit's repository: check it and try again."
            .to_owned()
    })
}

/// Where to go after rejecting.
#[derive(Deserialize)]
struct RejectForm {
    sha: String,
}

async fn reject(
    member: Member,
    Path((org, commit_id, task_id)): Path<(String, Uuid, Uuid)>,
    Form(form): Form<RejectForm>,
) -> Result<Response, Error> {
    let sha = api::model::parse_sha(&form.sha)?;
    links::remove(member, Path((org.clone(), commit_id, task_id))).await?;
    Ok(Redirect::to(&format!("/orgs/{org}/commits/{sha}")).into_response())
}
