//! A person's identities at providers: listed, and removed — never the last way in (an account
//! without a password keeps at least one identity).

use ::http::{Method, StatusCode};
use axum::{
    Json,
    extract::Path,
    routing::{delete, get},
};
use chrono::{DateTime, Utc};
use dashboard_shared::Error;
use serde::Serialize;

use crate::{
    auth::{context::Account, permission::Permission},
    routes::Route,
};

/// The routes under `/api/v2/user/identities`.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v2/user/identities",
            Permission::SignedIn,
            get(list),
        ),
        Route::new(
            Method::DELETE,
            "/api/v2/user/identities/{provider}",
            Permission::SignedIn,
            delete(remove),
        ),
    ]
}

/// An identity as its owner sees it (the provider's user id is not shown).
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Identity {
    provider: String,
    email: Option<String>,
    created_at: DateTime<Utc>,
}

/// `GET /api/v2/user/identities`.
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

/// `DELETE /api/v2/user/identities/{provider}`: removes the account's identities at `provider`;
/// 409 when that would leave no way to sign in.
async fn remove(mut account: Account, Path(provider): Path<String>) -> Result<StatusCode, Error> {
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
