//! Unlinked work: commits without a task, tasks without commits, and the linking rate per week.

use askama::Template;
use axum::{Extension, extract::Path, response::Response, routing::get};
use dashboard_shared::Error;
use http::Method;

use super::{
    charts,
    csrf::CsrfToken,
    layout::{Chrome, render},
};
use crate::{
    api::{
        pagination::PageQuery,
        unlinked::{
            self,
            model::{CommitFilter, TaskFilter, UnlinkedCommit, UnlinkedTask},
        },
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The page of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/orgs/{org}/unlinked",
        Permission::Org(OrgPermission::ReadData),
        get(unlinked_work),
    )]
}

#[derive(Template)]
#[template(path = "unlinked.html")]
struct UnlinkedPage {
    chrome: Chrome,
    commits: Vec<UnlinkedCommit>,
    more_commits: Option<String>,
    tasks: Vec<UnlinkedTask>,
    more_tasks: Option<String>,
    chart: String,
    rate: Option<f64>,
}

async fn unlinked_work(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path(org): Path<String>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Unlinked work", "unlinked").await?;
    let first = || PageQuery {
        limit: Some(25),
        cursor: None,
    };
    let commits = unlinked::db::list_unlinked_commits(
        &mut member.tx,
        &CommitFilter::default(),
        &first().parse()?,
    )
    .await?;
    let tasks = unlinked::db::list_unlinked_tasks(
        &mut member.tx,
        &TaskFilter::default(),
        &first().parse()?,
    )
    .await?;
    let rates = unlinked::db::linking_rate(&mut member.tx, 12, None).await?;
    let (chart, rate) = charts::linking_rate(&rates);
    let (commits, more_commits) = cut(commits, 25, format!("/orgs/{org}/commits?linked=false"));
    let (tasks, more_tasks) = cut(tasks, 25, format!("/orgs/{org}/tasks?linked=false"));
    Ok(render(&UnlinkedPage {
        chrome,
        commits,
        more_commits,
        tasks,
        more_tasks,
        chart,
        rate,
    }))
}

/// The first `limit` rows; when there were more, `all` (the address of the full list).
fn cut<T>(mut rows: Vec<T>, limit: usize, all: String) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more.then_some(all))
}
