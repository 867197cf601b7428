//! Members of an organization: the list, changing a role, removing someone, leaving. The rules of
//! notes/auth.md section 3 are checked here, in the transaction that makes the change, after the
//! owner rows are locked: (1) an organization keeps at least one owner, (2) only owners grant,
//! change or remove `owner`, (3) nobody grants a role above their own. Removing a member (or
//! leaving) revokes their API tokens in the organization.

use axum::{Json, extract::Path};
use chrono::{DateTime, Utc};
use dashboard_shared::{Error, TenantTx, domain::Role};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{
    api::Problem,
    audit,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of members.
pub fn routes() -> Vec<Route> {
    let manage = Permission::Org(OrgPermission::ManageMembers);
    vec![
        Route::documented(Permission::Org(OrgPermission::View), routes!(list)),
        Route::documented(manage, routes!(change_role)),
        Route::documented(manage, routes!(remove)),
        Route::documented(Permission::Org(OrgPermission::Leave), routes!(leave)),
    ]
}

/// A member as the organization sees them.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct MemberEntry {
    /// Their account.
    pub account_id: Uuid,
    /// Their email address.
    pub email: String,
    /// Their name.
    pub display_name: Option<String>,
    /// Their role.
    pub role: Role,
    /// Since when they belong.
    pub joined_at: DateTime<Utc>,
}

/// The members, oldest first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/members",
    tag = "members",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = [MemberEntry]))
)]
pub(crate) async fn list(mut member: Member) -> Result<Json<Vec<MemberEntry>>, Error> {
    Ok(Json(list_members(&mut member.tx).await?))
}

/// The members of the organization of `tx` (at most 10 000), oldest first.
pub async fn list_members(tx: &mut TenantTx) -> Result<Vec<MemberEntry>, Error> {
    Ok(
        sqlx::query_as("select * from lookup.members_of_current_tenant() limit 10000")
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// The body of `PATCH /api/v2/orgs/{org}/members/{account_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleChange {
    /// The new role: at most the caller's; only owners grant or take away `owner`.
    role: Role,
}

/// Changes a member's role. Handing over ownership (or taking it away) needs a recent proof of
/// identity (P7); an organization keeps at least one owner.
#[utoipa::path(
    patch,
    path = "/api/v2/orgs/{org}/members/{account_id}",
    tag = "members",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("account_id" = Uuid, Path, description = "The member's account"),
    ),
    request_body = RoleChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "A role above the caller's, `owner` by a non-owner, or no recent proof", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the organization without an owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change_role(
    mut member: Member,
    Path((_, target)): Path<(String, Uuid)>,
    Json(change): Json<RoleChange>,
) -> Result<StatusCode, Error> {
    let actor = (member.account, member.org.role);
    // Handing over ownership (or taking it away) needs a recent proof of identity (P7).
    if change.role == Role::Owner || target_is_owner(&mut member.tx, target).await? {
        member.require_recent_auth()?;
    }
    let from = change_member_role(&mut member.tx, actor, target, change.role).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "member.role_changed",
            target_type: "member",
            target_id: target.to_string(),
            details: json!({ "from": from, "to": change.role }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (and revokes their API tokens here); only owners remove owners, and an
/// organization keeps at least one.
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/members/{account_id}",
    tag = "members",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("account_id" = Uuid, Path, description = "The member's account"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "An owner, by a non-owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove(
    mut member: Member,
    Path((_, target)): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    let actor = (member.account, member.org.role);
    let removed = remove_member(&mut member.tx, Some(actor), target).await?;
    audit::record(
        &mut member.tx,
        removed.event(member.account, "member.removed"),
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves the organization (and revokes one's API tokens here); any role, except the last owner.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/leave",
    tag = "members",
    params(("org" = String, Path, description = "The organization's slug")),
    responses(
        (status = 204, description = "Left"),
        (status = 409, description = "The last owner", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn leave(mut member: Member) -> Result<StatusCode, Error> {
    let removed = remove_member(&mut member.tx, None, member.account).await?;
    audit::record(&mut member.tx, removed.event(member.account, "member.left")).await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives `target` the role `to` on behalf of `actor` (their account and the role they act with):
/// the role before.
pub async fn change_member_role(
    tx: &mut TenantTx,
    actor: (Uuid, Role),
    target: Uuid,
    to: Role,
) -> Result<Role, Error> {
    let owners = lock_owners(tx).await?;
    let actor = current_role(tx, actor).await?;
    let from = lock_member(tx, target).await?;
    if from == Role::Owner || to == Role::Owner {
        only_owners_touch_owners(actor)?;
    }
    if !actor.includes(to) {
        return Err(Error::ForbiddenBecause(
            "you cannot grant a role above your own".into(),
        ));
    }
    if from == Role::Owner && to != Role::Owner && owners.len() < 2 {
        return Err(last_owner());
    }
    sqlx::query("update memberships set role = $2 where account_id = $1")
        .bind(target)
        .bind(to.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(from)
}

/// What removing a member did.
pub struct Removed {
    /// Whose membership ended.
    pub account: Uuid,
    /// Their role.
    pub role: Role,
    /// How many of their API tokens were revoked with it.
    pub tokens_revoked: u64,
}

impl Removed {
    fn event(&self, actor: Uuid, action: &'static str) -> audit::Event<'static> {
        audit::Event {
            actor: Some(actor),
            action,
            target_type: "member",
            target_id: self.account.to_string(),
            details: json!({ "role": self.role, "tokens_revoked": self.tokens_revoked }),
        }
    }
}

/// Ends `target`'s membership and revokes their API tokens here. `actor` is whoever removes them
/// (their account and the role they act with), or `None` when they leave themselves.
pub async fn remove_member(
    tx: &mut TenantTx,
    actor: Option<(Uuid, Role)>,
    target: Uuid,
) -> Result<Removed, Error> {
    let owners = lock_owners(tx).await?;
    let actor = match actor {
        Some(actor) => Some(current_role(tx, actor).await?),
        None => None,
    };
    let role = lock_member(tx, target).await?;
    if role == Role::Owner {
        if let Some(actor) = actor {
            only_owners_touch_owners(actor)?;
        }
        if owners.len() < 2 {
            return Err(last_owner());
        }
    }
    let tokens_revoked = sqlx::query(
        "update api_tokens set revoked_at = now() where created_by = $1 and revoked_at is null",
    )
    .bind(target)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query("delete from memberships where account_id = $1")
        .bind(target)
        .execute(&mut **tx)
        .await?;
    Ok(Removed {
        account: target,
        role,
        tokens_revoked,
    })
}

/// Locks the owner rows (rule 1: two concurrent demotions cannot both see another owner).
async fn lock_owners(tx: &mut TenantTx) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "select account_id from memberships where role = 'owner' order by account_id for update",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The role `actor` acts with now that the owner rows are locked: the weaker of the one they came
/// with (an API token's cap) and their membership's, which a concurrent change may have lowered —
/// and it must still allow managing members.
async fn current_role(tx: &mut TenantTx, (account, claimed): (Uuid, Role)) -> Result<Role, Error> {
    let role = role_of(tx, account, false)
        .await?
        .ok_or(Error::Forbidden)?
        .max(claimed);
    if !OrgPermission::ManageMembers.allows(role) {
        return Err(Error::Forbidden);
    }
    Ok(role)
}

/// Whether `account` is an owner here (read before the locks, to decide whether the change needs
/// a recent proof; the rules are checked again under the locks).
async fn target_is_owner(tx: &mut TenantTx, account: Uuid) -> Result<bool, Error> {
    Ok(role_of(tx, account, false).await? == Some(Role::Owner))
}

/// `account`'s role here, if a member; with `lock`, their membership row stays locked until the
/// transaction ends.
async fn role_of(tx: &mut TenantTx, account: Uuid, lock: bool) -> Result<Option<Role>, Error> {
    let sql = if lock {
        "select role from memberships where account_id = $1 for update"
    } else {
        "select role from memberships where account_id = $1"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Locks `account`'s membership and reads its role; another organization's member is not found.
async fn lock_member(tx: &mut TenantTx, account: Uuid) -> Result<Role, Error> {
    role_of(tx, account, true).await?.ok_or(Error::NotFound)
}

fn only_owners_touch_owners(actor: Role) -> Result<(), Error> {
    if actor == Role::Owner {
        Ok(())
    } else {
        Err(Error::ForbiddenBecause(
            "only owners grant, change or remove the owner role".into(),
        ))
    }
}

fn last_owner() -> Error {
    Error::Conflict(
        "an organization keeps at least one owner: make someone else owner first".into(),
    )
}
