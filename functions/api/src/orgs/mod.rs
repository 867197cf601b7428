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

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use dashboard_shared::{
    Error, TenantId,
    domain::{Plan, TenantSlug},
};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{
    ToSchema,
    openapi::{Object, ObjectBuilder, Type},
};
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{
    AppState,
    api::Problem,
    audit,
    auth::{
        context::{Account, Member},
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of organizations, their settings, members, invitations, tokens and audit log.
pub fn routes() -> Vec<Route> {
    let own = vec![
        Route::documented(Permission::SignedIn, routes!(create)),
        Route::documented(Permission::Org(OrgPermission::View), routes!(show)),
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

/// The longest name of an organization or an API token, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A name people give (an organization's, an API token's): 1 to [`MAX_NAME_CHARS`] characters,
/// no control characters, not only spaces; answered without its surrounding spaces.
pub fn check_name(raw: &str) -> Result<&str, Error> {
    let name = raw.trim();
    if name.is_empty() || raw.chars().count() > MAX_NAME_CHARS || raw.chars().any(char::is_control)
    {
        return Err(Error::Unprocessable(format!(
            "name: 1 to {MAX_NAME_CHARS} characters, not only spaces, no control characters"
        )));
    }
    Ok(name)
}

/// The schema of a name [`check_name`] accepts.
pub fn name_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(
            r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$",
        ))
        .build()
}

/// An organization as its members see it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// The slug (2–63 lowercase letters, digits and single hyphens), the `{org}` of its paths.
    #[schema(min_length = 2, max_length = 63, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: String,
    /// The display name (1–200 characters).
    #[schema(schema_with = name_schema)]
    pub name: String,
}

/// A new organization, whose owner is the caller.
#[utoipa::path(
    post,
    path = "/api/v2/orgs",
    tag = "organizations",
    request_body = NewOrganization,
    responses(
        (status = 201, description = "Created", body = Organization),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A slug or name out of shape", body = Problem, content_type = "application/problem+json"),
    )
)]
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
    let slug =
        TenantSlug::parse(&new.slug).map_err(|why| Error::Unprocessable(format!("slug: {why}")))?;
    let name = check_name(&new.name)?;
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

/// The organization.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}",
    tag = "organizations",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = Organization))
)]
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
