//! The wire types of the overview.

use serde::Serialize;
use utoipa::ToSchema;

/// What an organization holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// Connected repositories (not archived).
    pub repositories: i64,
    /// Projects found in them.
    pub projects: i64,
    /// Their tasks (task lists, issues, pull requests).
    pub tasks: i64,
    /// Of which done.
    pub tasks_done: i64,
    /// Commits stored.
    pub commits: i64,
    /// Commit–task links in force (not suggestions, not removed).
    pub links: i64,
    /// Links the linker suggests, waiting for a person.
    pub suggestions: i64,
}
