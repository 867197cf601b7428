//! The wire types of links and jobs.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    domain::{JobStatus, LinkMethod, LinkRelation, LinkState, TaskSource},
    jobs::JobRecord,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The body of `POST /api/v2/orgs/{org}/links`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// The commit: its id, or its SHA (an unambiguous prefix of at least 7 hex digits will do).
    #[schema(
        pattern = r"^\s*([0-9a-fA-F]{7,64}|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})\s*$"
    )]
    pub commit: String,
    /// The task: its id, a task-list id or tracker key (`TASK-AUTH-12`), or a GitHub issue or pull
    /// request number of the commit's repository (`#12`).
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub task: String,
}

/// A commit's link to a task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    /// The commit.
    pub commit_id: Uuid,
    /// Its full SHA.
    pub commit_sha: String,
    /// The task.
    pub task_id: Uuid,
    /// Its task-list id or tracker key, or its issue or pull request number.
    pub task_key: String,
    /// Its title.
    pub task_title: String,
    /// Where it comes from.
    pub task_source: TaskSource,
    /// How the link came about.
    pub method: LinkMethod,
    /// What the commit does to the task.
    pub relation: LinkRelation,
    /// Whether it counts.
    pub state: LinkState,
    /// 1 for explicit and manual links, below for similarity.
    pub confidence: f32,
    /// The member who made it by hand.
    pub created_by: Option<Uuid>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A link added by hand, with what the pair was before.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedLink {
    /// The link, now `manual` and `active`.
    #[serde(flatten)]
    pub link: Link,
    /// What linked the pair before (a suggestion this confirmed, a link this replaced or a removed
    /// one this restored); absent for a new link.
    pub previous: Option<PreviousLink>,
}

/// What linked a pair before a person linked it by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PreviousLink {
    /// How.
    pub method: LinkMethod,
    /// In which state.
    pub state: LinkState,
}

/// The body of `POST /api/v2/orgs/{org}/link-commit-tasks` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelinkRequest {
    /// Only this repository's commits (all repositories without it).
    pub repository: Option<Uuid>,
}

/// Background work of the organization, as its members poll it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// What it does: `relink_organization`, `relink_repository`, `scan_repository`, …
    pub kind: String,
    /// Where it stands: `queued`, `running`, `done` or `dead` (out of attempts).
    pub status: JobStatus,
    /// How many of its runs failed.
    pub attempts: i32,
    /// How many failed runs leave it dead.
    pub max_attempts: i32,
    /// Why its last run failed, in words (absent before a failure and once it succeeded).
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it runs (again), while it is queued.
    pub next_run_at: Option<DateTime<Utc>>,
}

impl From<JobRecord> for Job {
    fn from(job: JobRecord) -> Self {
        Self {
            next_run_at: (job.status == JobStatus::Queued).then_some(job.run_at),
            // A success clears nothing in the row: an earlier attempt's error is history.
            last_error: job.last_error.filter(|_| job.status != JobStatus::Done),
            id: job.id,
            kind: job.kind,
            status: job.status,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}
