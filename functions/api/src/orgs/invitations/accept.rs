//! Accepting an invitation: the mailed token names the invitation (a look-up across
//! organizations by its hash), which is then checked and used once inside its organization, for a
//! signed-in account whose verified address is the invited one.

use axum::{Json, extract::State};
use dashboard_shared::{
    Db, Error, TenantId, TenantTx,
    domain::Role,
    plan::{self, Limit},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    AppState,
    api::Problem,
    audit,
    auth::{
        context::Account,
        opaque::{self, INVITATION_PREFIX},
    },
    orgs::read_organization,
};

/// The body of `POST /api/v2/invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptBody {
    /// The `token` of the mailed link.
    token: String,
}

/// What accepting an invitation joined.
#[derive(Debug, Serialize, ToSchema)]
pub struct Joined {
    /// The organization's slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The role granted.
    pub role: Role,
}

/// Joins an organization with the token of a mailed invitation, as the signed-in person, whose
/// verified address must be the invited one.
#[utoipa::path(
    post,
    path = "/api/v2/invitations/accept",
    tag = "invitations",
    request_body = AcceptBody,
    responses(
        (status = 200, description = "Joined", body = Joined),
        (status = 403, description = "The invitation is for another address, or this one is not verified", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The invitation was used, revoked or has expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn accept(
    State(state): State<AppState>,
    account: Account,
    Json(body): Json<AcceptBody>,
) -> Result<Json<Joined>, Error> {
    let account_id = account.tx.account_id();
    drop(account);
    Ok(Json(
        accept_invitation(&state.db, account_id, &body.token).await?,
    ))
}

#[derive(sqlx::FromRow)]
struct InvitationState {
    tenant_id: Uuid,
    invitation_id: Uuid,
}

/// Makes `account` a member through the invitation `token`, once: the account's verified address
/// must be the invited one.
pub async fn accept_invitation(db: &Db, account: Uuid, token: &str) -> Result<Joined, Error> {
    if !token.starts_with(INVITATION_PREFIX) || token.len() > 200 {
        return Err(Error::NotFound);
    }
    let mut lookup = db.without_tenant().await?;
    let state: Option<InvitationState> =
        sqlx::query_as("select tenant_id, invitation_id from lookup.invitation_state($1)")
            .bind(opaque::hash(token).as_slice())
            .fetch_optional(&mut *lookup)
            .await?;
    drop(lookup);
    let state = state.ok_or(Error::NotFound)?;
    let mut tx = db
        .member(TenantId::from_uuid(state.tenant_id), account)
        .await?;
    let role = consume(&mut tx, account, state.invitation_id).await?;
    audit::record(
        &mut tx,
        audit::Event {
            actor: Some(account),
            action: "invitation.accepted",
            target_type: "invitation",
            target_id: state.invitation_id.to_string(),
            details: json!({ "role": role }),
        },
    )
    .await?;
    let org = read_organization(&mut tx).await?;
    tx.commit().await?;
    Ok(Joined {
        slug: org.slug,
        name: org.name,
        role,
    })
}

/// Checks and uses invitation `id` for `account` inside its organization: the role granted.
async fn consume(tx: &mut TenantTx, account: Uuid, id: Uuid) -> Result<Role, Error> {
    let (email, role, accepted, revoked, expired): (String, Role, bool, bool, bool) =
        sqlx::query_as(
            "select email, role, accepted_at is not null, revoked_at is not null,
                    expires_at <= now()
             from invitations where id = $1 for update",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?;
    let gone = |why: &str| Err(Error::Gone(format!("{why}: ask for a new invitation")));
    match (accepted, revoked, expired) {
        (true, _, _) => return gone("this invitation was used already"),
        (_, true, _) => return gone("this invitation was revoked"),
        (_, _, true) => return gone("this invitation has expired"),
        _ => {}
    }
    let (own, verified): (String, bool) =
        sqlx::query_as("select email, email_verified_at is not null from accounts where id = $1")
            .bind(account)
            .fetch_one(&mut **tx)
            .await?;
    if !verified || !own.eq_ignore_ascii_case(&email) {
        return Err(Error::ForbiddenBecause(
            "this invitation is for another address: sign in with the invited address, verified"
                .into(),
        ));
    }
    // The invitation held its seat since it was made; a plan lowered since may have none left.
    plan::ensure_room(tx, Limit::Members, 0).await?;
    let inserted = sqlx::query(
        "insert into memberships (account_id, role) values ($1, $2) on conflict do nothing",
    )
    .bind(account)
    .bind(role.as_str())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::Conflict(
            "you are a member of this organization already".into(),
        ));
    }
    sqlx::query("update invitations set accepted_at = now() where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(role)
}
