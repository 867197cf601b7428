//! Every kind of job, as the producer enqueues it and the consumer decodes it. Payloads are claim
//! checks: ids of rows that hold the data, never the data itself.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

/// Store the commits of a received push delivery and enqueue their linking (linker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestPush {
    /// `webhook_deliveries.id` of the push.
    pub delivery: Uuid,
    /// The repository pushed to.
    pub repository: Uuid,
}

impl Job for IngestPush {
    const KIND: &'static str = "ingest_push";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some(self.delivery.to_string())
    }
}

/// Turn an `issues` or `pull_request` delivery into a task, newest `updated_at` winning (linker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestIssue {
    /// `webhook_deliveries.id` of the event.
    pub delivery: Uuid,
    /// The repository of the issue or pull request.
    pub repository: Uuid,
}

impl Job for IngestIssue {
    const KIND: &'static str = "ingest_issue";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some(self.delivery.to_string())
    }
}

/// Link these stored commits to tasks (linker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCommits {
    /// The repository of the commits.
    pub repository: Uuid,
    /// `commits.id` of the commits to link.
    pub commits: Vec<Uuid>,
    /// The branch they were pushed to (its name may reference a task). Whether a commit is on the
    /// default branch, which decides whether it closes what it fixes, is recorded on the commit.
    #[serde(default)]
    pub branch: Option<String>,
}

impl Job for LinkCommits {
    const KIND: &'static str = "link_commits";
    const QUEUE: Queue = Queue::Link;
}

/// Scan a repository for projects and tasks (scanner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRepository {
    /// The repository to scan.
    pub repository: Uuid,
    /// Why: `default_branch_push`, `renamed`, `connected`, `resync`, …
    pub reason: String,
}

impl Job for ScanRepository {
    const KIND: &'static str = "scan_repository";
    const QUEUE: Queue = Queue::Scan;

    fn dedup_key(&self) -> Option<String> {
        Some(self.repository.to_string())
    }
}

/// Fetch a `git` repository, ingest the commits new on any branch since the last poll, and rescan it
/// when its default branch moved (scanner: it keeps the mirrors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRepository {
    /// The repository to poll.
    pub repository: Uuid,
}

impl Job for PollRepository {
    const KIND: &'static str = "poll_repository";
    const QUEUE: Queue = Queue::Scan;

    fn dedup_key(&self) -> Option<String> {
        Some(self.repository.to_string())
    }
}

/// Relink a repository's commits after its tasks changed (linker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelinkRepository {
    /// The repository whose tasks changed.
    pub repository: Uuid,
}

impl Job for RelinkRepository {
    const KIND: &'static str = "relink_repository";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some(self.repository.to_string())
    }
}

/// Embed a repository's commits and tasks that have no embedding yet, one pass of at most a
/// thousand texts per job, each pass enqueueing the next, and relink the repository after the last
/// (linker, with a model): what a linking pass met more of than it embeds itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedTexts {
    /// The repository.
    pub repository: Uuid,
    /// Which pass (0 the first): the next pass is a job of its own beside the running one.
    pub pass: u32,
}

impl Job for EmbedTexts {
    const KIND: &'static str = "embed_texts";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.repository, self.pass))
    }
}

/// Relink the commits of every repository of the organization (linker): what a person asks for
/// with `POST /api/v2/orgs/{org}/link-commit-tasks` (one repository: [`RelinkRepository`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelinkOrganization {}

impl Job for RelinkOrganization {
    const KIND: &'static str = "relink_organization";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some("organization".to_owned())
    }
}
