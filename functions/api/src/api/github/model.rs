//! The wire types of the GitHub connections, and the one parser of a repository's `owner/name`.

use chrono::{DateTime, Utc};
use dashboard_shared::Error;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A GitHub App installation connected to the organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Installation {
    /// GitHub's id of the installation.
    pub installation_id: i64,
    /// The GitHub account (user or organization) it is installed on, as named when connected.
    pub account_login: Option<String>,
    /// Whether the installation's own selection on GitHub decides which repositories are
    /// connected (else the organization chooses them).
    pub follow_selection: bool,
    /// The repositories connected through it and tracked.
    pub repositories: i64,
    /// The member who connected it.
    pub connected_by: Option<Uuid>,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}

/// The body of `PATCH …/github/installations/{installation_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallationChange {
    /// Follow the installation's selection on GitHub: turning it on connects every repository the
    /// installation reaches now (and the webhook function connects the ones added later).
    pub follow_selection: bool,
}

/// The body of `PUT …/github/installations/{installation_id}/repositories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryChoice {
    /// The repositories to connect through the installation (`owner/name`); the installation's
    /// other connected repositories are disconnected.
    pub repositories: Vec<String>,
}

/// A repository the installation reaches on GitHub, and whether it is connected here.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvailableRepository {
    /// GitHub's id of the repository.
    pub github_id: i64,
    /// `owner/name`.
    pub full_name: String,
    /// Whether it is private.
    pub private: bool,
    /// Whether GitHub archived it.
    pub archived: bool,
    /// The connected repository's id here, if connected through this installation.
    pub repository_id: Option<Uuid>,
}

/// A repository connected through GitHub.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectedRepository {
    /// Its id here.
    pub id: Uuid,
    /// `owner/name`.
    pub full_name: String,
    /// GitHub's id of the repository.
    pub github_id: Option<i64>,
    /// Where it is fetched from.
    pub clone_url: String,
    /// Its default branch, when known.
    pub default_branch: Option<String>,
    /// The installation it is connected through (none for a repository webhook).
    pub installation_id: Option<i64>,
    /// The webhook we created on it (none for an installation's repository).
    pub webhook_hook_id: Option<i64>,
    /// Whether it is no longer tracked.
    pub archived: bool,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}

/// The body of `POST …/github/repositories` (no `Debug`: it holds a token).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConnection {
    /// The repository, `owner/name`.
    pub full_name: String,
    /// A token of a person with admin rights on it (a fine-grained token with Contents: read and
    /// Webhooks: read and write, or a classic token with `repo`): creates the webhook and fetches
    /// the repository; stored encrypted.
    #[schema(format = Password)]
    pub token: String,
}

/// Where the browser returns once the installation is connected.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstallQuery {
    /// A path on this site to land on at the end (default `/`).
    pub return_to: Option<String>,
}

/// What GitHub adds to the App's setup URL after an installation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetupQuery {
    /// The installation (not to be trusted: checked with the person's user access token).
    pub installation_id: Option<String>,
    /// `install` or `update`.
    pub setup_action: Option<String>,
    /// Our state, from `/github/install`.
    pub state: Option<String>,
}

/// What GitHub adds to the App's callback URL after the person authorized the App.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizedQuery {
    /// The code to exchange for the person's user access token.
    pub code: Option<String>,
    /// Our state, from `/github/setup`.
    pub state: Option<String>,
    /// GitHub's refusal (`access_denied`).
    pub error: Option<String>,
}

/// A GitHub repository's `owner/name`, checked: an owner of 1–39 letters, digits and `-`, a name
/// of 1–100 letters, digits, `-`, `_` and `.` (never `.` or `..`). Safe in an API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Parses `text` (the field is named `field` in the error).
    pub fn parse(field: &str, text: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::Unprocessable(format!(
                "{field}: `{}` is not a GitHub repository's owner/name",
                text.chars().take(120).collect::<String>()
            ))
        };
        let (owner, name) = text.split_once('/').ok_or_else(invalid)?;
        let owner_ok = (1..=39).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let name_ok = (1..=100).contains(&name.len())
            && !matches!(name, "." | "..")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if owner_ok && name_ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(invalid())
        }
    }

    /// `owner/name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_owner_and_a_name_pass_as_a_full_name() {
        for good in ["octocat/Hello-World", "a/b", "my-org/repo.name_2"] {
            assert_eq!(FullName::parse("f", good).unwrap().as_str(), good);
        }
        for bad in [
            "octocat",
            "octocat/",
            "/repo",
            "a/b/c",
            "octo cat/x",
            "o/..",
            "o/.",
            "o/a?b",
            "o/a#b",
            "o/%2e%2e",
            "",
        ] {
            let error = FullName::parse("full_name", bad).unwrap_err();
            assert!(error.to_string().starts_with("full_name: "), "{bad}");
        }
    }
}
