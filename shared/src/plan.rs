//! The plan's limits, checked where things are added: a repository on connect (the API and
//! `dashboard repo add`), a member on invite and on accepting one, projects on scan (the scanner
//! keeps what fits, [`project_room`]). An organization's limits are its own `max_*` columns, set by
//! provisioning and billing (the runtime role cannot change them); what it uses is counted from its
//! rows. A refusal names the plan, the limit and both numbers ([`LimitReached`]).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Error, TenantTx,
    domain::{Plan, PlanCounts},
};

/// What a plan limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Connected repositories (`max_repositories`).
    Repositories,
    /// Stored projects, over all repositories (`max_projects`).
    Projects,
    /// Members and pending invitations (`max_users`).
    Members,
}

impl Limit {
    /// The column of `tenants` that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Self::Repositories => "max_repositories",
            Self::Projects => "max_projects",
            Self::Members => "max_users",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Repositories => "repositories",
            Self::Projects => "projects",
            Self::Members => "members",
        }
    }

    fn counted(self) -> &'static str {
        match self {
            Self::Repositories => "are connected",
            Self::Projects => "are stored",
            Self::Members => "are members or invited",
        }
    }

    /// Its number in `counts`.
    pub fn of(self, counts: &PlanCounts) -> i64 {
        match self {
            Self::Repositories => counts.repositories,
            Self::Projects => counts.projects,
            Self::Members => counts.members,
        }
    }
}

/// Adding would go beyond the plan: which limit, and the numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {plan} plan allows {allowed} {} ({}) and {used} {}",
    limit.noun(),
    limit.column(),
    limit.counted()
)]
pub struct LimitReached {
    /// The organization's plan.
    pub plan: Plan,
    /// The limit reached.
    pub limit: Limit,
    /// What the organization may have.
    pub allowed: i64,
    /// What it has.
    pub used: i64,
}

impl From<LimitReached> for Error {
    /// 409: the request conflicts with the organization's plan; the detail names the limit.
    fn from(reached: LimitReached) -> Self {
        Self::Conflict(format!("plan limit reached: {reached}"))
    }
}

/// An organization's plan, its limits and what it uses of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlanUsage {
    /// The plan.
    pub plan: Plan,
    /// What it may have (its `max_*` columns).
    pub limits: PlanCounts,
    /// What it has: connected repositories, stored projects, members with pending invitations.
    pub usage: PlanCounts,
}

/// The plan of the organization of `tx`, its limits and its usage.
pub async fn plan_usage(tx: &mut TenantTx) -> Result<PlanUsage, sqlx::Error> {
    let row = sqlx::query!(
        r#"select t.plan as "plan: Plan", t.max_repositories, t.max_projects, t.max_users,
                  (select count(*) from repositories where not archived) as "repositories!",
                  (select count(*) from projects p join repositories r on r.id = p.repository_id
                   where p.removed_at is null and not r.archived) as "projects!",
                  (select count(*) from memberships)
                  + (select count(*) from invitations
                     where accepted_at is null and revoked_at is null and expires_at > now())
                    as "members!"
           from tenants t"#
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(PlanUsage {
        plan: row.plan,
        limits: PlanCounts {
            repositories: row.max_repositories.into(),
            projects: row.max_projects.into(),
            members: row.max_users.into(),
        },
        usage: PlanCounts {
            repositories: row.repositories,
            projects: row.projects,
            members: row.members,
        },
    })
}

/// Locks the organization's row until `tx` ends (concurrent additions are counted one after
/// another) and reads its plan and usage.
pub async fn lock_usage(tx: &mut TenantTx) -> Result<PlanUsage, sqlx::Error> {
    lock_tenant(tx).await?;
    plan_usage(tx).await
}

impl PlanUsage {
    /// How many more of `limit` fit in the plan (none when it is full or over).
    pub fn room(&self, limit: Limit) -> i64 {
        (limit.of(&self.limits) - limit.of(&self.usage)).max(0)
    }

    /// The refusal of adding more of `limit`, with the plan's numbers.
    pub fn refusal(&self, limit: Limit) -> LimitReached {
        LimitReached {
            plan: self.plan,
            limit,
            allowed: limit.of(&self.limits),
            used: limit.of(&self.usage),
        }
    }
}

/// Refuses ([`LimitReached`], a 409) unless `adding` more of `limit` fit in the plan. Locks the
/// organization's row until `tx` ends, so that concurrent additions are counted one after another.
pub async fn ensure_room(tx: &mut TenantTx, limit: Limit, adding: i64) -> Result<(), Error> {
    let usage = lock_usage(tx).await?;
    // Not `room`: with `adding` 0 (an accepted invitation, counted while pending), an organization
    // already over its limit is refused too.
    if limit.of(&usage.usage) + adding > limit.of(&usage.limits) {
        return Err(usage.refusal(limit).into());
    }
    Ok(())
}

/// How many projects a scan of one repository may store: the plan's `max_projects` less those
/// stored for the organization's other repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectRoom {
    /// The organization's plan.
    pub plan: Plan,
    /// Its `max_projects`.
    pub allowed: i64,
    /// Projects stored for its other repositories.
    pub elsewhere: i64,
}

impl ProjectRoom {
    /// The projects this repository may keep.
    pub fn room(&self) -> usize {
        usize::try_from((self.allowed - self.elsewhere).max(0)).unwrap_or(usize::MAX)
    }

    /// What to report when a scan found `found` projects and only [`Self::room`] are kept.
    pub fn problem(&self, found: usize) -> String {
        format!(
            "{found} projects found; the {} plan allows {} projects (max_projects) and {} are \
             stored for other repositories, so the first {} by path are kept",
            self.plan,
            self.allowed,
            self.elsewhere,
            self.room()
        )
    }
}

/// The room for `repository`'s projects (locks the organization's row until `tx` ends, so that
/// scans of two repositories storing at once cannot both take the last room).
pub async fn project_room(tx: &mut TenantTx, repository: Uuid) -> Result<ProjectRoom, sqlx::Error> {
    lock_tenant(tx).await?;
    let row = sqlx::query!(
        r#"select t.plan as "plan: Plan", t.max_projects,
                  (select count(*) from projects p join repositories r on r.id = p.repository_id
                   where p.removed_at is null and not r.archived and r.id <> $1) as "elsewhere!"
           from tenants t"#,
        repository
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(ProjectRoom {
        plan: row.plan,
        allowed: row.max_projects.into(),
        elsewhere: row.elsewhere,
    })
}

/// `for no key update`: serializes additions without blocking the inserts whose foreign keys
/// reference the organization (they take `for key share`).
async fn lock_tenant(tx: &mut TenantTx) -> Result<(), sqlx::Error> {
    sqlx::query!("select id from tenants for no key update")
        .fetch_one(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_plan_the_limit_and_the_numbers() {
        let reached = LimitReached {
            plan: Plan::Free,
            limit: Limit::Repositories,
            allowed: 3,
            used: 3,
        };
        let error = Error::from(reached);
        assert_eq!(error.status(), http::StatusCode::CONFLICT);
        assert_eq!(
            error.to_string(),
            "plan limit reached: the free plan allows 3 repositories (max_repositories) and 3 are connected"
        );
        let room = ProjectRoom {
            plan: Plan::Pro,
            allowed: 10,
            elsewhere: 7,
        };
        assert_eq!(room.room(), 3);
        assert_eq!(
            room.problem(5),
            "5 projects found; the pro plan allows 10 projects (max_projects) and 7 are stored for \
             other repositories, so the first 3 by path are kept"
        );
        let full = ProjectRoom {
            elsewhere: 12,
            ..room
        };
        assert_eq!(full.room(), 0);
    }
}
