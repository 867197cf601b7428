//! A person's identities at providers: listed, and removed — never the last way in (an account
//! without a password keeps at least one identity).

use ::http::StatusCode;
use axum::{Json, extract::Path};
use chrono::{DateTime, Utc};
use dashboard_shared::Error;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::{
    api::Problem,
    auth::{context::Account, permission::Permission},
    routes::Route,
};

/// The routes under `/api/v2/user/identities`.
pub fn routes() -> Vec<Route> {
    vec![
        Route::documented(Permission::SignedIn, routes!(list)),
        Route::documented(Permission::SignedIn, routes!(remove)),
    ]
}

/// An identity as its owner sees it (the provider's user id is not shown).
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
struct Identity {
    /// The provider's name.
    provider: String,
    /// The address the provider gave.
    email: Option<String>,
    /// When it was linked.
    created_at: DateTime<Utc>,
}

/// The signed-in person's identities at providers.
#[utoipa::path(
    get,
    path = "/api/v2/user/identities",
    tag = "user",
    responses((status = 200, description = "By provider", body = [Identity]))
)]
async fn list(mut account: Account) -> Result<Json<Vec<Identity>>, Error> {
    let identities = sqlx::query_as(
        "select provider, email, created_at from identities where account_id = $1
         order by provider, created_at",
    )
    .bind(account.tx.account_id())
    .fetch_all(&mut *account.tx)
    .await?;
    Ok(Json(identities))
}

/// Removes the signed-in person's identities at a provider; never the last way to sign in.
#[utoipa::path(
    delete,
    path = "/api/v2/user/identities/{provider}",
    tag = "user",
    params(("provider" = String, Path, description = "The provider's name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No identity at this provider", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is the only way to sign in: set a password or connect another provider first", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(mut account: Account, Path(provider): Path<String>) -> Result<StatusCode, Error> {
    if !super::providers::valid_name(&provider) {
        return Err(Error::NotFound);
    }
    let id = account.tx.account_id();
    // The account row is locked so two removals cannot each leave the other as the last way in.
    let has_password: bool = sqlx::query_scalar(
        "select password_hash is not null from accounts where id = $1 for update",
    )
    .bind(id)
    .fetch_one(&mut *account.tx)
    .await?;
    let (matching, others): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where provider = $2), count(*) filter (where provider <> $2)
         from identities where account_id = $1",
    )
    .bind(id)
    .bind(&provider)
    .fetch_one(&mut *account.tx)
    .await?;
    if matching == 0 {
        return Err(Error::NotFound);
    }
    if !has_password && others == 0 {
        return Err(Error::Conflict(
            "this is your only way to sign in: set a password or connect another provider first"
                .into(),
        ));
    }
    sqlx::query("delete from identities where account_id = $1 and provider = $2")
        .bind(id)
        .bind(&provider)
        .execute(&mut *account.tx)
        .await?;
    account.tx.commit().await?;
    tracing::info!(account.id = %id, provider.name = %provider, "an identity was removed");
    Ok(StatusCode::NO_CONTENT)
}
