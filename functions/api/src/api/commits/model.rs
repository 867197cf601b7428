//! The wire types of commits and of a link seen from either side: what it links, how and why.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error,
    domain::{LinkMethod, LinkRelation, LinkState, TaskSource, TaskStatus},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A commit with its links.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Commit {
    /// Its id.
    pub id: Uuid,
    /// The full SHA.
    pub sha: String,
    /// The repository it is in.
    pub repository_id: Uuid,
    /// That repository's name (`owner/name`).
    pub repository: String,
    /// The message's first line.
    pub title: String,
    /// The author's name.
    pub author_name: Option<String>,
    /// The author's email address.
    pub author_email: Option<String>,
    /// When it happened: committed, else authored, else first stored (the list's order).
    pub dated_at: DateTime<Utc>,
    /// Whether it is on the repository's default branch.
    pub on_default_branch: bool,
    /// Its links and suggestions, links first, then by confidence (removed ones left out).
    pub links: Vec<CommitLink>,
}

/// A commit with everything stored about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitDetail {
    /// The commit.
    #[serde(flatten)]
    pub commit: Commit,
    /// The whole message.
    pub message: String,
    /// When it was authored.
    pub authored_at: Option<DateTime<Utc>>,
    /// When it was committed.
    pub committed_at: Option<DateTime<Utc>>,
    /// The files it changed.
    pub changed_paths: Vec<String>,
    /// The links a person removed (`state` `rejected`): relinking does not bring them back.
    pub removed_links: Vec<CommitLink>,
}

/// A commit's link to a task.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommitLink {
    /// The task.
    pub task: TaskRef,
    /// How the link was made.
    pub method: LinkMethod,
    /// What the commit does to the task.
    pub relation: LinkRelation,
    /// 1 for explicit and manual links, below for similarity.
    pub confidence: f32,
    /// In force, suggested, or removed by a person.
    pub state: LinkState,
    /// Why they are linked.
    pub why: Why,
}

/// A task as a link names it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskRef {
    /// Its id.
    pub id: Uuid,
    /// The repository it belongs to.
    pub repository_id: Uuid,
    /// `TASK-AUTH-12`, or the issue or pull request number.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Where it comes from.
    pub source: TaskSource,
    /// Where it stands.
    pub status: TaskStatus,
}

/// Why a commit and a task are linked: the reference for an explicit link, the shared terms for a
/// similarity one, the person for a manual one (the others absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Why {
    /// An explicit link's reference as the commit (or its branch or pull request) wrote it:
    /// `TASK-AUTH-12`, `#12`, `owner/repo#12`, `AB#7`.
    pub reference: Option<String>,
    /// The terms a similarity link's commit and task share.
    pub terms: Option<Vec<String>>,
    /// A similarity link's score by shared words (TF-IDF cosine).
    pub score: Option<f64>,
    /// A similarity link's score by meaning (the cosine of the two texts' sentence embeddings),
    /// when the linker reads meaning too.
    pub semantic: Option<f64>,
    /// Who linked them by hand (an account id), when known.
    pub linked_by: Option<Uuid>,
}

/// What the linker stores in a link's `evidence`: `{"reference": …}` for an explicit link,
/// `{"score": …, "terms": […]}` for a similarity one (with `"semantic": …` when meaning decided or
/// suggested it), `{}` for a manual one.
#[derive(Debug, Default, Deserialize)]
pub struct Evidence {
    reference: Option<String>,
    terms: Option<Vec<String>>,
    score: Option<f64>,
    semantic: Option<f64>,
}

impl Why {
    /// The reasons of a link whose evidence is `evidence`, made by `linked_by`.
    pub fn new(evidence: Evidence, linked_by: Option<Uuid>) -> Self {
        Self {
            reference: evidence.reference,
            terms: evidence.terms,
            score: evidence.score,
            semantic: evidence.semantic,
            linked_by,
        }
    }
}

/// The filters of `GET /api/v2/orgs/{org}/commits`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitFilter {
    /// Only this repository's commits.
    pub repository: Option<Uuid>,
    /// Only commits by this author: a name or an email address (whole, any case).
    #[param(min_length = 1, max_length = 320, pattern = r"^[^\x00]*$")]
    pub author: Option<String>,
    /// Only commits dated at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<String>,
    /// Only commits dated before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// `true`: only commits linked to a task (a link in force); `false`: only commits without one.
    pub linked: Option<bool>,
    /// Only commits linked to this task (a link in force).
    pub task: Option<Uuid>,
}

/// [`CommitFilter`] checked: the times parsed.
#[derive(Debug, Default)]
pub struct CommitQuery {
    /// Only this repository's commits.
    pub repository: Option<Uuid>,
    /// Only this author's (name or email, any case).
    pub author: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// With or without a link in force.
    pub linked: Option<bool>,
    /// Linked to this task.
    pub task: Option<Uuid>,
}

/// The sort key of the commit list (its cursor): date and id, newest first.
pub type CommitKey = (DateTime<Utc>, Uuid);

/// The query of `GET /api/v2/orgs/{org}/commits/{sha}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShaQuery {
    /// The repository, when the SHA is in more than one.
    pub repository: Option<Uuid>,
}

/// A commit a SHA (or a prefix of one) may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The commit's id.
    pub id: Uuid,
    /// Its full SHA.
    pub sha: String,
    /// Its repository's id.
    pub repository_id: Uuid,
    /// Its repository's name.
    pub repository: String,
}

/// The longest author a filter names (an email address's limit).
const MAX_AUTHOR_LEN: usize = 320;

impl CommitFilter {
    /// Checks the filter: times in RFC 3339, in order; an author of a sensible length.
    pub fn check(self) -> Result<CommitQuery, Error> {
        let time = |field: &str, value: Option<&str>| {
            value
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            Error::Unprocessable(format!(
                                "{field}: not an RFC 3339 time (like 2026-03-01T09:30:00Z)"
                            ))
                        })
                })
                .transpose()
        };
        let since = time("since", self.since.as_deref())?;
        let until = time("until", self.until.as_deref())?;
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(Error::Unprocessable("until: earlier than since".into()));
        }
        if let Some(author) = &self.author
            && (author.is_empty()
                || author.chars().count() > MAX_AUTHOR_LEN
                || author.contains('\0'))
        {
            return Err(Error::Unprocessable(format!(
                "author: must be 1 to {MAX_AUTHOR_LEN} characters, without NUL"
            )));
        }
        Ok(CommitQuery {
            repository: self.repository,
            author: self.author,
            since,
            until,
            linked: self.linked,
            task: self.task,
        })
    }
}

/// A SHA or a prefix of one, as a path names a commit: 7 to 64 hex digits, in any case.
pub fn parse_sha(given: &str) -> Result<String, Error> {
    if (7..=64).contains(&given.len()) && given.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(given.to_ascii_lowercase())
    } else {
        Err(Error::Unprocessable(
            "sha: must be a commit SHA or a prefix of one, 7 to 64 hex digits".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_by_meaning_says_how_close_and_what_words_it_shares() {
        let evidence: Evidence = serde_json::from_value(
            serde_json::json!({"score": 0.11, "semantic": 0.656, "terms": ["crash"]}),
        )
        .unwrap();
        let why = Why::new(evidence, None);
        assert_eq!(why.semantic, Some(0.656));
        assert_eq!(why.score, Some(0.11));
        assert_eq!(why.terms, Some(vec!["crash".to_owned()]));
        let words: Evidence =
            serde_json::from_value(serde_json::json!({"score": 0.4, "terms": ["login"]})).unwrap();
        assert_eq!(Why::new(words, None).semantic, None);
    }
}
