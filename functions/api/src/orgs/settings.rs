//! An organization's settings: its name (admins and owners), whether every member must sign in with
//! a second factor (owners only), and deleting it (owners, after a recent proof of identity, P7).

use axum::Json;
use dashboard_shared::{Error, TenantTx};
use http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{Organization, check_name, name_schema, read_organization};
use crate::{
    api::Problem,
    audit,
    auth::{
        context::{Credential, Member},
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of an organization's settings.
pub fn routes() -> Vec<Route> {
    vec![
        Route::documented(Permission::Org(OrgPermission::EditProfile), routes!(update)),
        Route::documented(Permission::Org(OrgPermission::Delete), routes!(remove)),
    ]
}

/// The body of `PATCH /api/v2/orgs/{org}`: the settings to change, at least one (an absent one
/// stays as it is; `null` is no value for either).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct OrganizationChanges {
    /// A new display name (1–200 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    /// Whether every member must sign in with a second factor (owners only).
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub require_mfa: Option<bool>,
}

/// A field that may be absent but, when present, is not `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    value: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(value).map(Some)
}

/// Changes the organization's settings: the name needs an admin; the MFA policy an owner (a
/// security policy, notes/auth.md section 3), who must have signed in with a second factor to
/// require one.
#[utoipa::path(
    patch,
    path = "/api/v2/orgs/{org}",
    tag = "organizations",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = OrganizationChanges,
    responses(
        (status = 200, description = "The organization as it is now", body = Organization),
        (status = 403, description = "Only owners set `require_mfa`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Requiring MFA without having signed in with it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name out of shape, or nothing to change", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn update(
    mut member: Member,
    Json(changes): Json<OrganizationChanges>,
) -> Result<Json<Organization>, Error> {
    if let Some(require_mfa) = changes.require_mfa {
        if !OrgPermission::EditSecurity.allows(member.org.role) {
            return Err(Error::Forbidden);
        }
        let second_factor =
            matches!(&member.credential, Credential::Session(c) if c.has_second_factor());
        if require_mfa && !second_factor {
            return Err(Error::Conflict(
                "sign in with a second factor yourself before requiring one of every member".into(),
            ));
        }
    }
    let (before, after) = update_organization(&mut member.tx, &changes).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "organization.updated",
            target_type: "organization",
            target_id: after.id.to_string(),
            details: json!({
                "name": { "from": before.name, "to": after.name },
                "require_mfa": { "from": before.require_mfa, "to": after.require_mfa },
            }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(Json(after))
}

/// Applies `changes` to the organization of `tx`: the organization before and after.
pub async fn update_organization(
    tx: &mut TenantTx,
    changes: &OrganizationChanges,
) -> Result<(Organization, Organization), Error> {
    let name = changes.name.as_deref().map(check_name).transpose()?;
    if name.is_none() && changes.require_mfa.is_none() {
        return Err(Error::Unprocessable(
            "nothing to change: send `name` or `require_mfa`".into(),
        ));
    }
    let before = read_organization(tx).await?;
    sqlx::query(
        "update tenants set name = coalesce($1, name), require_mfa = coalesce($2, require_mfa),
                updated_at = now()",
    )
    .bind(name)
    .bind(changes.require_mfa)
    .execute(&mut **tx)
    .await?;
    let after = read_organization(tx).await?;
    Ok((before, after))
}

/// Deletes the organization and everything in it, its audit log included; the deletion itself is
/// kept outside it (`organization_deletions`). Needs a recent proof of identity, with the second
/// factor when the owner has one (P7).
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}",
    tag = "organizations",
    params(("org" = String, Path, description = "The organization's slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "No recent proof (with the second factor when the owner has one): `POST /api/v2/auth/reauthenticate` first", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove(mut member: Member) -> Result<StatusCode, Error> {
    member.require_recent_auth()?;
    let mfa_enabled: bool = sqlx::query_scalar("select mfa_enabled from accounts where id = $1")
        .bind(member.account)
        .fetch_one(&mut *member.tx)
        .await?;
    let second_factor =
        matches!(&member.credential, Credential::Session(claims) if claims.has_second_factor());
    if mfa_enabled && !second_factor {
        return Err(Error::ForbiddenBecause(
            "deleting an organization needs a sign-in with your second factor: \
             POST /api/v2/auth/reauthenticate with a code, then retry"
                .into(),
        ));
    }
    let tenant = member.tx.tenant_id();
    sqlx::query("select lookup.record_organization_deletion()")
        .execute(&mut *member.tx)
        .await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "organization.deleted",
            target_type: "organization",
            target_id: tenant.to_string(),
            details: json!({ "slug": member.org.slug }),
        },
    )
    .await?;
    delete_organization(&mut member.tx).await?;
    member.tx.commit().await?;
    tracing::warn!(
        tenant.id = %tenant,
        org.slug = %member.org.slug,
        actor.id = %member.account,
        "organization deleted by its owner"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the organization of `tx` with every row that belongs to it.
pub async fn delete_organization(tx: &mut TenantTx) -> Result<(), Error> {
    sqlx::query("delete from tenants where id = $1")
        .bind(tx.tenant_id())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
