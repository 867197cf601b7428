//! Small domain types shared by every function, parsed at the edge so that the rest of the code
//! only ever sees valid values.

mod states;

use std::{borrow::Cow, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use states::{
    JobStatus, LinkMethod, LinkRelation, LinkState, Plan, PlanCounts, Provider, TaskSource,
    TaskStatus,
};

/// The id of a tenant (an organization). Every tenant-scoped transaction is opened with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TenantId(Uuid);

impl TenantId {
    /// Wraps a known tenant id.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The underlying uuid.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A person's role in an organization, strongest first. Stored as its lowercase name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Everything, including billing and deleting the organization.
    Owner,
    /// Manages members, repositories and settings.
    Admin,
    /// Works with projects, tasks and links.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];

    /// Whether this role includes everything `other` may do (owner ⊇ admin ⊇ member ⊇ viewer).
    pub fn includes(self, other: Role) -> bool {
        self <= other
    }

    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            "viewer" => Ok(Self::Viewer),
            other => Err(format!(
                "unknown role `{other}`: expected owner, admin, member or viewer"
            )),
        }
    }
}

/// A tenant's URL-safe short name (also its subdomain): 2 to 63 lowercase letters, digits and
/// single hyphens, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Checks and wraps a slug.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid_shape = (2..=63).contains(&raw.len())
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if valid_chars && valid_shape {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{raw}` is not a valid organization slug: use 2 to 63 lowercase letters, digits and single hyphens"
            ))
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address as people type it: trimmed, at most 320 characters, one `@` with something on
/// each side, a dot in the domain, no spaces or control characters. Compared case-insensitively by
/// the database (`accounts.email_normalized`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Checks and wraps an address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        let valid = email.chars().count() <= 320
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(email.to_owned()))
        } else {
            Err("this is not an email address like name@example.com".into())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` as a PostgreSQL `text` value can hold it: without the NUL characters PostgreSQL refuses
/// (error 22021), which a hostile commit, manifest or issue may carry and which would otherwise fail
/// the whole batch it came in, on every retry. Borrowed when there is none.
pub fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// [`storable`] in place.
pub fn make_storable(text: &mut String) {
    if let Cow::Owned(clean) = storable(text) {
        *text = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order_by_strength() {
        for role in [Role::Owner, Role::Admin, Role::Member, Role::Viewer] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!(Role::Owner < Role::Viewer);
        assert!("root".parse::<Role>().unwrap_err().contains("root"));
    }

    #[test]
    fn text_is_stored_without_nul_characters() {
        assert_eq!(storable("fix\0 login"), "fix login");
        assert!(matches!(storable("clean"), Cow::Borrowed("clean")));
        let mut name = String::from("\0Jane\0");
        make_storable(&mut name);
        assert_eq!(name, "Jane");
    }

    #[test]
    fn slugs_accept_dns_labels_only() {
        assert!(TenantSlug::parse("find-me-a-mechanic").is_ok());
        for bad in [
            "",
            "a",
            "-a",
            "a-",
            "a--b",
            "Upper",
            "under_score",
            &"x".repeat(64),
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
