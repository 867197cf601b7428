//! Invitations: an admin or owner invites an address with a role at most their own; the link
//! (single use, 7 days) goes only by mail — the API never returns it — and is accepted by a
//! signed-in account whose verified address is the invited one ([`accept`]). A pending invitation
//! counts against the plan's member limit like a member.

pub mod accept;

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error, TenantTx,
    domain::Role,
    plan::{self, Limit},
};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use super::read_organization;
use crate::{
    AppState,
    api::Problem,
    audit,
    auth::{
        context::Member,
        mail::Mail,
        opaque::{self, INVITATION_PREFIX},
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// How long an invitation stays valid.
pub const INVITATION_TTL: chrono::Duration = chrono::Duration::days(7);

/// The routes of invitations.
pub fn routes() -> Vec<Route> {
    let manage = Permission::Org(OrgPermission::ManageInvitations);
    vec![
        Route::documented(manage, routes!(create)),
        Route::documented(manage, routes!(list)),
        Route::documented(manage, routes!(revoke)),
        Route::documented(Permission::SignedIn, routes!(accept::accept)),
    ]
}

/// A pending invitation (never its token).
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Invitation {
    /// Its id.
    pub id: Uuid,
    /// The invited address.
    pub email: String,
    /// The role it grants.
    pub role: Role,
    /// Who invited.
    pub invited_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when it can be accepted.
    pub expires_at: DateTime<Utc>,
}

/// The columns of the record, for `returning` and `select`.
macro_rules! columns {
    () => {
        "id, email, role, invited_by, created_at, expires_at"
    };
}

/// The body of `POST /api/v2/orgs/{org}/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The address to invite.
    #[schema(format = Email, max_length = 320)]
    pub email: String,
    /// The role to grant (at most the inviter's).
    pub role: Role,
}

/// Invites an address with a role at most the caller's: the link (single use, 7 days) goes by
/// mail only. The mail is sent before the invitation is recorded for good, so a refused mail
/// leaves none behind.
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/invitations",
    tag = "invitations",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "Invited", body = Invitation),
        (status = 403, description = "A role above the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A member has this address, or a pending invitation does", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not one email address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    mut member: Member,
    Json(new): Json<NewInvitation>,
) -> Result<(StatusCode, Json<Invitation>), Error> {
    let (invitation, token) =
        create_invitation(&mut member.tx, member.account, member.org.role, &new).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "invitation.created",
            target_type: "invitation",
            target_id: invitation.id.to_string(),
            details: json!({ "email": invitation.email, "role": invitation.role }),
        },
    )
    .await?;
    let org = read_organization(&mut member.tx).await?;
    let mail = Mail {
        to: invitation.email.clone(),
        subject: format!("You are invited to {} on Dashboard", org.name),
        text: format!(
            "You are invited to join {} as {}. Sign in with this address (verified), then follow \
             this link; it works once, within 7 days:",
            org.name,
            invitation.role.as_str()
        ),
        link: Some(format!(
            "{}/invitations/accept?token={token}",
            state.config.public_url
        )),
    };
    state
        .config
        .mailer
        .send(&mail)
        .await
        .map_err(|error| Error::Unavailable(error.context("failed to send an invitation mail")))?;
    member.tx.commit().await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Records an invitation of `new.email` by `inviter` (whose role is `inviter_role`): the
/// invitation and its token, to be mailed.
pub async fn create_invitation(
    tx: &mut TenantTx,
    inviter: Uuid,
    inviter_role: Role,
    new: &NewInvitation,
) -> Result<(Invitation, String), Error> {
    let email = new.email.trim();
    if !plausible_email(email) {
        return Err(Error::Unprocessable(
            "email must be one address, like ann@example.com".into(),
        ));
    }
    if !inviter_role.includes(new.role) {
        return Err(Error::ForbiddenBecause(
            "you cannot invite with a role above your own".into(),
        ));
    }
    let member: bool = sqlx::query_scalar(
        "select exists (select 1 from lookup.members_of_current_tenant() where lower(email) = lower($1))",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await?;
    let pending: bool = sqlx::query_scalar(
        "select exists (select 1 from invitations where lower(email) = lower($1)
                          and accepted_at is null and revoked_at is null and expires_at > now())",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await?;
    if member || pending {
        return Err(Error::Conflict(if member {
            "this address belongs to a member already".into()
        } else {
            "this address has a pending invitation: revoke it to send a new one".into()
        }));
    }
    // A pending invitation holds a seat: members and invitations together stay within the plan.
    plan::ensure_room(tx, Limit::Members, 1).await?;
    let (token, hash) = opaque::new_token(INVITATION_PREFIX);
    let invitation = sqlx::query_as(concat!(
        "insert into invitations (email, role, token_hash, invited_by, expires_at)
         values ($1, $2, $3, $4, now() + $5) returning ",
        columns!(),
        ""
    ))
    .bind(email)
    .bind(new.role.as_str())
    .bind(hash.as_slice())
    .bind(inviter)
    .bind(INVITATION_TTL)
    .fetch_one(&mut **tx)
    .await?;
    Ok((invitation, token))
}

/// One bare address (`ann@example.com`), as the mailer will accept it.
fn plausible_email(email: &str) -> bool {
    email.len() <= 320 && email.parse::<lettre::Address>().is_ok()
}

/// The pending invitations, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/invitations",
    tag = "invitations",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = [Invitation]))
)]
pub(crate) async fn list(mut member: Member) -> Result<Json<Vec<Invitation>>, Error> {
    Ok(Json(list_invitations(&mut member.tx).await?))
}

/// The pending invitations of the organization of `tx` (at most 1000), newest first.
pub async fn list_invitations(tx: &mut TenantTx) -> Result<Vec<Invitation>, Error> {
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from invitations
         where accepted_at is null and revoked_at is null and expires_at > now()
         order by created_at desc, id limit 1000"
    ))
    .fetch_all(&mut **tx)
    .await?)
}

/// Revokes a pending invitation (only owners revoke an invitation to be owner).
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/invitations/{id}",
    tag = "invitations",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("id" = Uuid, Path, description = "The invitation's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "An invitation to be owner, by a non-owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pending invitation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke(
    mut member: Member,
    Path((_, id)): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    let invitation = revoke_invitation(&mut member.tx, member.org.role, id).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "invitation.revoked",
            target_type: "invitation",
            target_id: id.to_string(),
            details: json!({ "email": invitation.email, "role": invitation.role }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the pending invitation `id` on behalf of someone whose role is `actor` (only owners
/// revoke an invitation to be owner).
pub async fn revoke_invitation(
    tx: &mut TenantTx,
    actor: Role,
    id: Uuid,
) -> Result<Invitation, Error> {
    let invitation: Invitation = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from invitations
         where id = $1 and accepted_at is null and revoked_at is null for update"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)?;
    if !actor.includes(invitation.role) {
        return Err(Error::ForbiddenBecause(
            "only owners revoke an invitation to be owner".into(),
        ));
    }
    sqlx::query("update invitations set revoked_at = now() where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(invitation)
}
