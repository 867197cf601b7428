//! The organization's first page: its totals, its repositories with their sync health (with
//! "sync now" for those who may), commit activity and the linking rate per week, task completion
//! of its largest projects, and the latest commits.

use askama::Template;
use axum::{
    Extension,
    extract::{Path, State},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use dashboard_shared::Error;
use http::Method;
use uuid::Uuid;

use super::{
    charts::{self, Sparkline},
    csrf::CsrfToken,
    layout::{Chrome, render},
    projects::meter,
};
use crate::{
    AppState,
    api::{
        commits::{
            db::list_commits,
            model::{Commit, CommitQuery},
        },
        overview::{db::count_totals, model::Totals},
        pagination::PageRequest,
        projects::{db::list_projects, model::ProjectFilter},
        repositories::{
            db::{list_repositories, sync_repository},
            model::{Repository, RepositoryFilter},
        },
        unlinked::db::linking_rate,
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// Weeks the activity charts cover.
const WEEKS: u32 = 12;

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    use OrgPermission::{ManageRepositories, ReadData};
    vec![
        Route::new(
            Method::GET,
            "/orgs/{org}",
            Permission::Org(ReadData),
            get(overview),
        ),
        Route::new(
            Method::POST,
            "/orgs/{org}/repositories/{id}/sync",
            Permission::Org(ManageRepositories),
            post(sync_now),
        ),
    ]
}

/// A repository's row.
struct RepositoryRow {
    repository: Repository,
    activity: String,
    commits_recently: i64,
}

/// A project's row of the completion chart.
struct Completion {
    id: Uuid,
    name: String,
    done: i32,
    all: i32,
    meter: String,
}

/// Projects the completion chart shows.
const LARGEST: usize = 8;

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    totals: Totals,
    repositories: Vec<RepositoryRow>,
    linking: String,
    linking_rate: Option<f64>,
    completion: Vec<Completion>,
    with_tasks: usize,
    recent: Vec<Commit>,
}

async fn overview(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Overview", "overview").await?;
    let tx = &mut member.tx;
    let totals = count_totals(tx).await?;
    let repositories = list_repositories(tx, &RepositoryFilter::default(), &first(50)).await?;
    let rates = linking_rate(tx, WEEKS, None).await?;
    let rows = repositories
        .into_iter()
        .take(50)
        .map(|repository| {
            let weeks: Vec<i64> = rates
                .repositories
                .iter()
                .find(|r| r.id == repository.id)
                .map(|r| r.weeks.iter().map(|w| w.commits).collect())
                .unwrap_or_else(|| vec![0; WEEKS as usize]);
            let label = format!(
                "Commits per week of {} over the last {WEEKS} weeks: {}",
                repository.name,
                weeks
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            RepositoryRow {
                activity: charts::svg(&Sparkline::new(label, &weeks)),
                commits_recently: weeks.iter().sum(),
                repository,
            }
        })
        .collect();
    let (linking, linking_rate) = charts::linking_rate(&rates);
    let mut projects = list_projects(tx, &ProjectFilter::default(), &first(200)).await?;
    projects.retain(|p| p.task_count > 0);
    let with_tasks = projects.len();
    projects.sort_by(|a, b| b.task_count.cmp(&a.task_count).then(a.path.cmp(&b.path)));
    projects.truncate(LARGEST);
    let completion = projects
        .into_iter()
        .map(|p| Completion {
            meter: meter(p.tasks_done, p.task_count),
            name: p.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| {
                if p.path.is_empty() {
                    p.repository.clone()
                } else {
                    p.path.clone()
                }
            }),
            id: p.id,
            done: p.tasks_done,
            all: p.task_count,
        })
        .collect();
    let recent = list_commits(tx, &CommitQuery::default(), &first(8)).await?;
    Ok(render(&OverviewPage {
        chrome,
        totals,
        repositories: rows,
        linking,
        linking_rate,
        completion,
        with_tasks,
        recent: recent.into_iter().take(8).collect(),
    }))
}

/// The first `limit` rows of a list.
fn first<K>(limit: u32) -> PageRequest<K> {
    PageRequest { limit, after: None }
}

async fn sync_now(
    State(state): State<AppState>,
    mut member: Member,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    sync_repository(&mut member.tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let jobs = member.tx.commit().await?;
    state.transport.dispatch(&jobs).await;
    Ok(Redirect::to(&format!("/orgs/{org}")).into_response())
}
