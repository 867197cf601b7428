//! The states and kinds stored as text in the schema (each column's `check` lists the same names):
//! decoded by sqlx, written by serde and described in the OpenAPI document from one enum each, so
//! no code spells a state as a string literal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a text-stored enum: sqlx and serde use the snake_case names, `as_str` gives the same.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "text", rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}`: expected one of {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

stored_enum! {
    /// Where a repository comes from.
    Provider {
        /// GitHub, through the App or a repository webhook.
        Github = "github",
        /// Any git remote, polled.
        Git = "git",
    }
}

stored_enum! {
    /// Where a task comes from.
    TaskSource {
        /// A checklist item of a `tasklist.md`.
        Tasklist = "tasklist",
        /// A GitHub issue.
        GithubIssue = "github_issue",
        /// A GitHub pull request.
        GithubPr = "github_pr",
    }
}

stored_enum! {
    /// Where a task stands.
    TaskStatus {
        /// Not started.
        Open = "open",
        /// Being worked on.
        InProgress = "in_progress",
        /// Finished.
        Done = "done",
        /// Dropped.
        Cancelled = "cancelled",
    }
}

stored_enum! {
    /// How a commit came to be linked to a task.
    LinkMethod {
        /// The commit names the task (`TASK-AUTH-12`, `fixes #12`).
        Explicit = "explicit",
        /// The commit's text resembles the task's.
        Similarity = "similarity",
        /// A person linked them.
        Manual = "manual",
    }
}

stored_enum! {
    /// What a commit does to the task it is linked to.
    LinkRelation {
        /// It closes the task (`fixes #12`).
        Closes = "closes",
        /// It only mentions it.
        References = "references",
    }
}

stored_enum! {
    /// Whether a link counts.
    LinkState {
        /// In force.
        Active = "active",
        /// Proposed by similarity, waiting for a person.
        Suggested = "suggested",
        /// Removed by a person: relinking does not bring it back.
        Rejected = "rejected",
    }
}

stored_enum! {
    /// Where a queued job stands.
    JobStatus {
        /// Waiting to run (or to be retried).
        Queued = "queued",
        /// Claimed by a worker.
        Running = "running",
        /// Finished.
        Done = "done",
        /// Out of attempts: kept for a person to replay.
        Dead = "dead",
    }
}

stored_enum! {
    /// An organization's plan: what it pays for (its limits are its own `max_*` columns, which
    /// start at the plan's [`Plan::default_limits`]).
    Plan {
        /// Free: a few repositories, a small team.
        Free = "free",
        /// Paid, for a team.
        Pro = "pro",
        /// Paid, for a company; limits set per contract.
        Enterprise = "enterprise",
    }
}

/// How much of each limited thing an organization may have (its `max_*` columns), or has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlanCounts {
    /// Connected repositories (`max_repositories`).
    pub repositories: i64,
    /// Projects stored, over all its repositories (`max_projects`).
    pub projects: i64,
    /// Members, with pending invitations (`max_users`).
    pub members: i64,
}

impl Plan {
    /// The limits a new organization on this plan starts with.
    pub fn default_limits(self) -> PlanCounts {
        match self {
            Self::Free => PlanCounts {
                repositories: 3,
                projects: 100,
                members: 5,
            },
            Self::Pro => PlanCounts {
                repositories: 25,
                projects: 500,
                members: 25,
            },
            Self::Enterprise => PlanCounts {
                repositories: 500,
                projects: 5000,
                members: 500,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for status in TaskStatus::ALL {
            assert_eq!(status.as_str().parse::<TaskStatus>(), Ok(*status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(TaskSource::GithubPr.as_str(), "github_pr");
        assert_eq!(
            "merged".parse::<LinkState>().unwrap_err(),
            "unknown LinkState `merged`: expected one of active, suggested, rejected"
        );
    }
}
