//! What each route needs (rule 4 of notes/auth.md section 3): every route declares one
//! [`Permission`], and one function maps a role to what it may do. Deny by default: a permission
//! not listed for a role is refused.

use dashboard_shared::domain::Role;

/// The permission a route declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone: sign-in flows, public keys.
    Public,
    /// A signed-in person, outside any organization: their profile, identities, organizations.
    SignedIn,
    /// A member of the organization named in the path, whose role allows this.
    Org(OrgPermission),
}

/// What members of an organization may do, by role (the matrix of notes/auth.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPermission {
    /// See the organization, its settings and its members.
    View,
    /// Edit its profile (name).
    EditProfile,
    /// Its security policy (require MFA).
    EditSecurity,
    /// Delete it.
    Delete,
    /// Read the audit log.
    ReadAuditLog,
    /// Invite people, list and revoke invitations (up to one's own role).
    ManageInvitations,
    /// Change members' roles, remove members (owners only by owners).
    ManageMembers,
    /// Leave the organization.
    Leave,
    /// Create and manage one's own API tokens (scope up to one's role).
    OwnTokens,
    /// List and revoke anyone's API tokens.
    ManageTokens,
    /// Read projects, tasks, commits, links, repositories.
    ReadData,
    /// Create and edit projects and tasks, link and unlink commits.
    WriteData,
    /// Connect, disconnect and configure repositories.
    ManageRepositories,
    /// See and replay the organization's dead jobs.
    ManageJobs,
}

impl OrgPermission {
    /// The weakest role allowed this (roles are ordered owner ⊇ admin ⊇ member ⊇ viewer).
    pub fn least_role(self) -> Role {
        match self {
            Self::View | Self::Leave | Self::OwnTokens | Self::ReadData => Role::Viewer,
            Self::WriteData => Role::Member,
            Self::EditProfile
            | Self::ReadAuditLog
            | Self::ManageInvitations
            | Self::ManageMembers
            | Self::ManageTokens
            | Self::ManageRepositories
            | Self::ManageJobs => Role::Admin,
            Self::EditSecurity | Self::Delete => Role::Owner,
        }
    }

    /// Whether `role` may do this.
    pub fn allows(self, role: Role) -> bool {
        role.includes(self.least_role())
    }
}
