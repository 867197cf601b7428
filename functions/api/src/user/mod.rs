//! The signed-in person: their profile and the organizations they belong to.

use axum::Json;
use chrono::{DateTime, Utc};
use dashboard_shared::{Error, domain::Role};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{
    auth::{context::Account, permission::Permission},
    routes::Route,
};

/// The routes under `/api/v2/user`.
pub fn routes() -> Vec<Route> {
    vec![
        Route::documented(Permission::SignedIn, routes!(show)),
        Route::documented(Permission::SignedIn, routes!(organizations)),
    ]
}

/// A person as they see themselves.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct User {
    /// Their id.
    pub id: Uuid,
    /// Their email address.
    pub email: String,
    /// Whether they proved they receive mail there.
    pub email_verified: bool,
    /// Their name.
    pub display_name: Option<String>,
    /// Whether they sign in with a second factor.
    pub mfa_enabled: bool,
    /// Whether they have a password (else only providers).
    pub has_password: bool,
    /// Since when.
    pub created_at: DateTime<Utc>,
}

/// The signed-in person.
#[utoipa::path(
    get,
    path = "/api/v2/user",
    tag = "user",
    responses((status = 200, body = User))
)]
async fn show(mut account: Account) -> Result<Json<User>, Error> {
    let user = sqlx::query_as(
        "select id, email, email_verified_at is not null as email_verified, display_name,
                mfa_enabled, password_hash is not null as has_password, created_at
         from accounts where id = $1",
    )
    .bind(account.tx.account_id())
    .fetch_one(&mut *account.tx)
    .await?;
    Ok(Json(user))
}

/// An organization the person belongs to.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct OrgMembership {
    /// Its slug (the `{org}` of its paths).
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The person's role there.
    pub role: Role,
}

/// The organizations the signed-in person belongs to, by slug.
#[utoipa::path(
    get,
    path = "/api/v2/user/orgs",
    tag = "user",
    responses((status = 200, body = [OrgMembership]))
)]
async fn organizations(mut account: Account) -> Result<Json<Vec<OrgMembership>>, Error> {
    let orgs = list_organizations(&mut account.tx).await?;
    Ok(Json(orgs))
}

/// The organizations of the account of `tx`, by slug.
pub async fn list_organizations(
    tx: &mut dashboard_shared::AccountTx,
) -> Result<Vec<OrgMembership>, Error> {
    let account = tx.account_id();
    list_organizations_of(tx, account).await
}

/// The organizations of `account`, by slug, on any of its transactions (a page's organization
/// switcher reads them inside the page's tenant transaction).
pub async fn list_organizations_of(
    conn: &mut sqlx::PgConnection,
    account: uuid::Uuid,
) -> Result<Vec<OrgMembership>, Error> {
    Ok(
        sqlx::query_as("select slug, name, role from lookup.memberships_of($1)")
            .bind(account)
            .fetch_all(conn)
            .await?,
    )
}
