//! The wire types of unlinked work and the linking rate.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use dashboard_shared::domain::{TaskSource, TaskStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The filters of `GET /api/v2/orgs/{org}/unlinked/commits`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitFilter {
    /// Only this repository's commits.
    pub repository: Option<Uuid>,
    /// Only commits made at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only commits made before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
}

/// The sort key of unlinked commits (newest first): when it was made, id.
pub type CommitKey = (DateTime<Utc>, Uuid);

/// A commit linked to no task.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlinkedCommit {
    /// Its id.
    pub id: Uuid,
    /// Its repository.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// Its full SHA.
    pub sha: String,
    /// Its message's first line.
    pub title: String,
    /// Its author's name.
    pub author_name: Option<String>,
    /// When it was made (committed, else authored, else stored).
    pub at: DateTime<Utc>,
    /// Links the linker suggests for it, waiting for a person (`POST …/links` confirms one).
    pub suggestions: i64,
}

/// The filters of `GET /api/v2/orgs/{org}/unlinked/tasks`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// Only this repository's tasks.
    pub repository: Option<Uuid>,
    /// Only this project's tasks.
    pub project: Option<Uuid>,
    /// Only tasks from this source (`tasklist` or `github_issue`: pull requests have their own
    /// list).
    pub source: Option<TaskSource>,
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
}

/// The sort key of unlinked tasks and pull requests (newest first): when it was created, id.
pub type TaskKey = (DateTime<Utc>, Uuid);

/// A task (a task-list item or a GitHub issue) that no commit is linked to.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlinkedTask {
    /// Its id.
    pub id: Uuid,
    /// Its repository.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// The project whose task list holds it.
    pub project_id: Option<Uuid>,
    /// Where it comes from.
    pub source: TaskSource,
    /// Its task-list id or tracker key, or its issue number.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// Its page, for GitHub issues.
    pub url: Option<String>,
    /// When it was created (task-list items: first found).
    pub created_at: DateTime<Utc>,
    /// Commits the linker suggests for it, waiting for a person.
    pub suggestions: i64,
}

/// The filters of `GET /api/v2/orgs/{org}/unlinked/pull-requests`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullRequestFilter {
    /// Only this repository's pull requests.
    pub repository: Option<Uuid>,
    /// Only pull requests in this status (`open`; `done`: merged; `cancelled`: closed unmerged).
    pub status: Option<TaskStatus>,
}

/// A pull request that reaches no task: none of its commits is linked to a task or an issue.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlinkedPullRequest {
    /// Its id (as a task).
    pub id: Uuid,
    /// Its repository.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// `open`, `done` (merged) or `cancelled` (closed unmerged).
    pub status: TaskStatus,
    /// Its page on GitHub.
    pub url: Option<String>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was merged or closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Commits linked to it (its merge commit, once merged).
    pub commits: i64,
}

/// The query of `GET /api/v2/orgs/{org}/linking-rate`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RateQuery {
    /// How many ISO weeks, this one included (1–104, default 12).
    #[param(minimum = 1, maximum = 104)]
    pub weeks: Option<u32>,
    /// Only this repository.
    pub repository: Option<Uuid>,
}

/// The share of commits linked to a task, per ISO week (UTC) and per repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkingRate {
    /// The first day (a Monday) of the first week counted.
    pub since: NaiveDate,
    /// Every repository together, week by week, oldest first.
    pub weeks: Vec<WeekRate>,
    /// Each repository with commits in those weeks, by name.
    pub repositories: Vec<RepositoryRate>,
}

/// Commits of one ISO week and how many are linked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WeekRate {
    /// The ISO week: `2026-W49`.
    pub week: String,
    /// Its Monday.
    pub starts_on: NaiveDate,
    /// Commits made that week.
    pub commits: i64,
    /// Of which linked to a task.
    pub linked: i64,
    /// `linked / commits`, absent without commits.
    pub rate: Option<f64>,
}

impl WeekRate {
    /// The week starting on `monday`, with its counts.
    pub fn new(monday: NaiveDate, commits: i64, linked: i64) -> Self {
        let iso = monday.iso_week();
        Self {
            week: format!("{}-W{:02}", iso.year(), iso.week()),
            starts_on: monday,
            commits,
            linked,
            rate: rate(commits, linked),
        }
    }
}

/// One repository's linking rate over the weeks asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryRate {
    /// The repository.
    pub id: Uuid,
    /// Its name (`owner/name`).
    pub repository: String,
    /// Its commits in those weeks.
    pub commits: i64,
    /// Of which linked to a task.
    pub linked: i64,
    /// `linked / commits`.
    pub rate: Option<f64>,
    /// Week by week, oldest first.
    pub weeks: Vec<WeekRate>,
}

/// `linked / commits`, absent without commits.
pub fn rate(commits: i64, linked: i64) -> Option<f64> {
    (commits > 0).then(|| linked as f64 / commits as f64)
}
