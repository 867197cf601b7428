//! The wire types of repositories: a repository with its sync health, the list's filters, and the
//! bodies of connecting one and changing it.

use std::fmt;

use chrono::{DateTime, Utc};
use dashboard_shared::{domain::Provider, jobs::JobCounts};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A connected repository, what has come of it, and how its syncing goes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Repository {
    /// Its id.
    pub id: Uuid,
    /// Where it comes from: `github` (pushed by webhooks) or `git` (any remote, polled).
    pub provider: Provider,
    /// Its name (`owner/name`).
    pub name: String,
    /// What is fetched: the clone URL (never with credentials), or a local path on one machine.
    pub url: String,
    /// Its default branch, once known.
    pub default_branch: Option<String>,
    /// Branches seen by the last poll.
    pub branches: i32,
    /// How often a `git` remote is polled, in seconds.
    pub poll_interval_seconds: i32,
    /// Whether a token or SSH key is stored for it (sealed; never shown).
    pub has_credential: bool,
    /// Its projects.
    pub projects: i64,
    /// Its tasks.
    pub tasks: i64,
    /// Of which done.
    pub tasks_done: i64,
    /// Its stored commits.
    pub commits: i64,
    /// Links in force between its commits and tasks.
    pub links: i64,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// How its syncing goes.
    pub health: SyncHealth,
}

/// Where a repository's syncing stands, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// A poll or a scan is working on it now.
    Syncing,
    /// Its last poll or scan failed: see `last_error`; retried after `retry_after`.
    Failing,
    /// Never fetched yet: its first poll or scan is queued.
    Pending,
    /// Its last poll or scan succeeded.
    Healthy,
}

impl SyncState {
    /// The word, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syncing => "syncing",
            Self::Failing => "failing",
            Self::Pending => "pending",
            Self::Healthy => "healthy",
        }
    }
}

/// How a repository's syncing goes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncHealth {
    /// In one word.
    pub state: SyncState,
    /// When a webhook delivery about it was last received (GitHub).
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// When it was last polled (`git`).
    pub last_polled_at: Option<DateTime<Utc>>,
    /// The last finished scan, if any.
    pub last_scan: Option<LastScan>,
    /// When the next scheduled poll falls due (`git`): the last poll and the interval, or later
    /// while backing off after failures; absent before the first poll (queued on connect) and
    /// for GitHub repositories, which their webhook keeps in sync.
    pub next_poll_at: Option<DateTime<Utc>>,
    /// Its jobs: queued, running, dead (dead ones an administrator may replay).
    pub jobs: JobCounts,
    /// Failed polls or scans since the last success.
    pub consecutive_failures: i32,
    /// What the last failed poll or scan said, in words (absent once one succeeds).
    pub last_error: Option<String>,
    /// When it last failed.
    pub last_failed_at: Option<DateTime<Utc>>,
    /// No scheduled poll or resync before then (backing off after failures).
    pub retry_after: Option<DateTime<Utc>>,
    /// What the last full scan could not take in (projects beyond the plan's limit).
    pub problems: Vec<String>,
    /// Taking in the repository's history (`git`).
    pub backfill: Backfill,
}

/// How far the repository's history has been taken in. A poll takes at most
/// `SCANNER_MAX_COMMITS_PER_POLL` new commits; with more, the repository stays due and the next
/// poll goes on where it stopped.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Backfill {
    /// Whether every commit of its branches is stored: false before the first poll and while
    /// polls are still taking a history longer than one poll's cap.
    pub complete: bool,
    /// Commits stored so far.
    pub commits: i64,
}

/// A finished scan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastScan {
    /// The commit scanned (the default branch's head).
    pub commit: String,
    /// When it finished.
    pub at: DateTime<Utc>,
    /// How long it took, in milliseconds (absent for scans older than this measure).
    pub duration_ms: Option<i32>,
}

/// The filters of `GET /api/v2/orgs/{org}/repositories`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepositoryFilter {
    /// Only repositories of this provider.
    pub provider: Option<Provider>,
    /// Only repositories whose name or URL contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only failing repositories (`true`) or only those that are not (`false`).
    pub failing: Option<bool>,
}

/// The sort key of the repository list (its cursor): name, id.
pub type RepositoryKey = (String, Uuid);

/// The body of `POST /api/v2/orgs/{org}/repositories`: any git remote, by URL.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRepository {
    /// The clone URL: `https://…` or ssh (`ssh://…`, `git@host:path`). No user information or
    /// password in it: give a token in `token`.
    pub url: String,
    /// The name to show (default: the URL's last two segments, `owner/name`).
    pub name: Option<String>,
    /// An access token for a private HTTPS remote (stored sealed, never shown again).
    pub token: Option<String>,
    /// The user name sent with the token (default `git`; some hosts want the account's).
    pub username: Option<String>,
    /// An SSH private key (OpenSSH or PEM) for an ssh remote (stored sealed, never shown again).
    pub ssh_key: Option<String>,
    /// How often to poll it, in seconds: 30 to 86400 (default 300).
    #[serde(default, deserialize_with = "crate::api::optional_integer")]
    #[schema(minimum = 30, maximum = 86400)]
    pub poll_interval: Option<i32>,
}

impl fmt::Debug for NewRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewRepository")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("username", &self.username)
            .field("ssh_key", &self.ssh_key.as_ref().map(|_| "[redacted]"))
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// The body of `PATCH /api/v2/orgs/{org}/repositories/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryChange {
    /// How often to poll it, in seconds: 30 to 86400 (`git` remotes only).
    #[serde(default, deserialize_with = "crate::api::optional_integer")]
    #[schema(required = true, value_type = i32, minimum = 30, maximum = 86400)]
    pub poll_interval: Option<i32>,
}

/// The answer of `POST /api/v2/orgs/{org}/repositories/{id}/sync`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncStarted {
    /// The job that syncs it (one already waiting, if there was one).
    pub job_id: Uuid,
}
