//! Organizations: creating one (its creator becomes its owner) and reading one; its settings,
//! members, invitations, API tokens and audit log live in the submodules. Handlers parse, make one
//! call into a function on the member's transaction (the rules of notes/auth.md section 3 are
//! checked there, in the transaction that makes the change), record the audit event, commit and
//! answer. Another organization's rows are invisible (row-level security), so their ids are 404.

pub mod audit_log;
pub mod invitations;
pub mod members;
pub mod settings;
pub mod tokens;

use axum::{
    Json,
    extract::State,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error, TenantId,
    domain::{Plan, TenantSlug},
};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    AppState, audit,
    auth::{
        context::{Account, Member},
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of organizations, their settings, members, invitations, tokens and audit log.
pub fn routes() -> Vec<Route> {
    let own = vec![
        Route::new(
            Method::POST,
            "/api/v2/orgs",
            Permission::SignedIn,
            post(create),
        ),
        Route::new(
            Method::GET,
            "/api/v2/orgs/{org}",
            Permission::Org(OrgPermission::View),
            get(show),
        ),
    ];
    [
        own,
        settings::routes(),
        members::routes(),
        invitations::routes(),
        tokens::routes(),
        audit_log::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// An organization as its members see it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Organization {
    /// Its id.
    pub id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Whether every member must sign in with a second factor.
    pub require_mfa: bool,
    /// Its plan (its limits and usage: `GET /api/v2/orgs/{org}/plan`).
    pub plan: Plan,
    /// Since when.
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /api/v2/orgs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// The slug (2–63 lowercase letters, digits and single hyphens).
    pub slug: String,
    /// The display name (1–200 characters).
    pub name: String,
}

/// `POST /api/v2/orgs`: a new organization whose owner is the caller.
async fn create(
    State(state): State<AppState>,
    account: Account,
    Json(new): Json<NewOrganization>,
) -> Result<(StatusCode, Json<Organization>), Error> {
    let account_id = account.tx.account_id();
    drop(account);
    let org = create_organization(&state.db, account_id, &new).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// Creates an organization with `owner` as its owner (the API and `dashboard` use this).
pub async fn create_organization(
    db: &dashboard_shared::Db,
    owner: Uuid,
    new: &NewOrganization,
) -> Result<Organization, Error> {
    let slug = TenantSlug::parse(new.slug.trim()).map_err(Error::Unprocessable)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Unprocessable(
            "name must be 1 to 200 characters".into(),
        ));
    }
    let tenant = TenantId::from_uuid(Uuid::new_v4());
    let mut tx = db.member(tenant, owner).await?;
    let inserted = sqlx::query("insert into tenants (id, slug, name) values ($1, $2, $3)")
        .bind(tenant)
        .bind(slug.as_str())
        .bind(name)
        .execute(&mut *tx)
        .await;
    if let Err(error) = inserted {
        return Err(match Error::from(error) {
            Error::Conflict(_) => Error::Conflict(format!("the slug `{}` is taken", slug.as_str())),
            other => other,
        });
    }
    sqlx::query("insert into memberships (account_id, role) values ($1, 'owner')")
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        audit::Event {
            actor: Some(owner),
            action: "organization.created",
            target_type: "organization",
            target_id: tenant.to_string(),
            details: json!({ "slug": slug.as_str() }),
        },
    )
    .await?;
    let org = read_organization(&mut tx).await?;
    tx.commit().await?;
    Ok(org)
}

/// `GET /api/v2/orgs/{org}`.
async fn show(mut member: Member) -> Result<Json<Organization>, Error> {
    Ok(Json(read_organization(&mut member.tx).await?))
}

/// The organization of `tx`.
pub async fn read_organization(tx: &mut dashboard_shared::TenantTx) -> Result<Organization, Error> {
    Ok(
        sqlx::query_as("select id, slug, name, require_mfa, plan, created_at from tenants")
            .fetch_one(&mut **tx)
            .await?,
    )
}
