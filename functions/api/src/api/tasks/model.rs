//! The wire types of tasks.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error,
    domain::{LinkMethod, LinkRelation, LinkState, TaskSource, TaskStatus},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::commits::model::Why;

/// A task: a checklist item of a task list, a GitHub issue or a pull request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Task {
    /// Its id.
    pub id: Uuid,
    /// The repository it belongs to.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// The project whose task list holds it, if any.
    pub project_id: Option<Uuid>,
    /// That project's directory.
    pub project_path: Option<String>,
    /// Where it comes from.
    pub source: TaskSource,
    /// `TASK-AUTH-12`, or the issue or pull request number.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// Its labels.
    pub labels: Vec<String>,
    /// The headings of the task list it sits under.
    pub section: Vec<String>,
    /// Its page on the provider, if any.
    pub url: Option<String>,
    /// The commits linked to it (links in force).
    pub linked_commits: i64,
    /// How well it matches `q` (higher is better); absent without `q`.
    pub rank: Option<f32>,
    /// When it was first seen.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// The filters of `GET /api/v2/orgs/{org}/tasks`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// Only this project's tasks.
    pub project: Option<Uuid>,
    /// Only this repository's tasks.
    pub repository: Option<Uuid>,
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// Only tasks from this source.
    pub source: Option<TaskSource>,
    /// `true`: only tasks with a linked commit (a link in force); `false`: only tasks without one.
    pub linked: Option<bool>,
    /// Full-text search of titles and bodies, in web search syntax (`login token`, `"dark mode"`,
    /// `csv or pdf`, `-draft`); words match their other forms (`exports` finds `export`). With
    /// it, the best matches come first.
    pub q: Option<String>,
}

/// The longest search text.
pub const MAX_QUERY_LEN: usize = 500;

impl TaskFilter {
    /// The search text: `None` when absent or blank; refused when too long.
    pub fn search(&self) -> Result<Option<&str>, Error> {
        let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(None);
        };
        if q.len() > MAX_QUERY_LEN || q.contains('\0') {
            return Err(Error::Unprocessable(format!(
                "q: at most {MAX_QUERY_LEN} bytes, without NUL"
            )));
        }
        Ok(Some(q))
    }
}

/// The sort key of the task list (its cursor): the rank when searching (best first, 0 otherwise),
/// then repository, source and key (unique in an organization).
pub type TaskKey = (f32, Uuid, TaskSource, String);

/// A task with its body, its linked commits and the commits suggested for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Its body (an issue's or pull request's description, a task list item's notes).
    pub body: Option<String>,
    /// The commits linked to it (links in force), newest first.
    pub commits: Vec<TaskLink>,
    /// The commits the linker suggests for it, for a person to confirm or remove, best first.
    pub suggestions: Vec<TaskLink>,
}

/// A task's link to a commit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskLink {
    /// The commit.
    pub commit: CommitRef,
    /// How the link was made.
    pub method: LinkMethod,
    /// What the commit does to the task.
    pub relation: LinkRelation,
    /// 1 for explicit and manual links, below for similarity.
    pub confidence: f32,
    /// In force or suggested.
    pub state: LinkState,
    /// Why they are linked.
    pub why: Why,
}

/// A commit as a link names it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommitRef {
    /// Its id.
    pub id: Uuid,
    /// The full SHA.
    pub sha: String,
    /// The repository it is in.
    pub repository_id: Uuid,
    /// That repository's name.
    pub repository: String,
    /// The message's first line.
    pub title: String,
    /// The author's name.
    pub author_name: Option<String>,
    /// When it happened.
    pub dated_at: DateTime<Utc>,
}
