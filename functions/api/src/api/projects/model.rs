//! The wire types of projects.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A project: a directory of a repository that holds manifests or a task list (one directory is one
/// project, whatever ecosystems it holds).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    /// Its id.
    pub id: Uuid,
    /// The repository it is in.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// Its directory in the repository (`""` at the root).
    pub path: String,
    /// Its primary ecosystem, the first of `types`: `cargo`, `npm`, `tasklist`, `git-submodule`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Every ecosystem found in its directory, strongest first (`["npm", "tasklist"]`).
    pub types: Vec<String>,
    /// Its name, from the strongest manifest that gives one, else its task list's front matter.
    pub name: Option<String>,
    /// Its version, likewise.
    pub version: Option<String>,
    /// Its description, likewise.
    pub description: Option<String>,
    /// The manifest files found in its directory.
    pub manifests: Vec<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The project it sits in, if any.
    pub parent_id: Option<Uuid>,
    /// That project's directory.
    pub parent_path: Option<String>,
    /// Its tasks.
    pub task_count: i32,
    /// Of which done.
    pub tasks_done: i32,
    /// `TODO` comments in its files.
    pub todo_count: i32,
    /// `FIXME` comments in its files.
    pub fixme_count: i32,
    /// When a scan last changed it.
    pub updated_at: DateTime<Utc>,
}

/// The filters of `GET /api/v2/orgs/{org}/projects`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// Only this repository's projects.
    pub repository: Option<Uuid>,
    /// Only projects where this ecosystem was found (any of their `types`: `npm`, `tasklist`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only projects with this tag.
    pub tag: Option<String>,
    /// Only the projects directly inside this one.
    pub parent: Option<Uuid>,
    /// Only projects whose name or directory contains this text (case-insensitive).
    pub q: Option<String>,
}

/// The sort key of the project list (its cursor): repository name, directory, id.
pub type ProjectKey = (String, String, Uuid);

/// A project with what is in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDetail {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its tasks by status.
    pub tasks: TaskCounts,
    /// The projects directly inside it.
    pub children: Vec<Project>,
    /// The latest commits that changed a file in its directory (at most 10).
    pub recent_commits: Vec<CommitBrief>,
}

/// How many tasks are in each status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct TaskCounts {
    /// Not started.
    pub open: i64,
    /// Being worked on.
    pub in_progress: i64,
    /// Finished.
    pub done: i64,
    /// Dropped.
    pub cancelled: i64,
}

/// A commit in a list of recent ones.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitBrief {
    /// The full SHA.
    pub sha: String,
    /// The message's first line.
    pub title: String,
    /// The author's name.
    pub author_name: Option<String>,
    /// When it was committed.
    pub committed_at: Option<DateTime<Utc>>,
}

/// A project and those inside it (the tree of a repository).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProjectNode {
    /// The project's id.
    pub id: Uuid,
    /// The repository it is in (`owner/name`).
    pub repository: String,
    /// Its directory in the repository (`""` at the root).
    pub path: String,
    /// Its primary ecosystem, the first of `types`: `cargo`, `npm`, `tasklist`, `git-submodule`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Every ecosystem found in its directory, strongest first.
    pub types: Vec<String>,
    /// Its name, when a manifest or its task list gives one.
    pub name: Option<String>,
    /// Its version, when the manifest gives one.
    pub version: Option<String>,
    /// Its tasks.
    pub tasks: i32,
    /// Of which done.
    pub tasks_done: i32,
    /// `tasks_done / tasks`, absent without tasks.
    pub completion: Option<f64>,
    /// `TODO` comments in its files.
    pub todo_count: i32,
    /// `FIXME` comments in its files.
    pub fixme_count: i32,
    /// The projects inside it.
    #[schema(no_recursion)]
    pub children: Vec<ProjectNode>,
}

impl ProjectNode {
    /// This project and every one inside it.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(ProjectNode::count).sum::<usize>()
    }
}
