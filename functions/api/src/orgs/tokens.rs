//! Personal API tokens (G5): for scripts and CI, one organization each, a role at most the
//! creator's (and never `owner`: owners' powers need a signed-in session), expiring (90 days by
//! default, a year at most), shown once, only their SHA-256 stored, with a short prefix for display.
//! `authorize` accepts them as `Authorization: Bearer dash_pat_…` and records their last use.

use axum::{Json, extract::Path};
use chrono::{DateTime, Utc};
use dashboard_shared::{Error, TenantTx, domain::Role};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{check_name, name_schema};
use crate::{
    api::Problem,
    audit,
    auth::{
        context::{Credential, Member},
        opaque::{self, API_TOKEN_PREFIX},
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// Days a token lives when the creator does not say.
pub const DEFAULT_EXPIRY_DAYS: u32 = 90;
/// The longest a token may live, in days.
pub const MAX_EXPIRY_DAYS: u32 = 366;
/// Characters of the token kept for display after its prefix (`dash_pat_AbCd…`).
const SHOWN_CHARS: usize = 4;

/// The routes of API tokens.
pub fn routes() -> Vec<Route> {
    let own = Permission::Org(OrgPermission::OwnTokens);
    vec![
        Route::documented(own, routes!(create)),
        Route::documented(own, routes!(list)),
        Route::documented(own, routes!(revoke)),
    ]
}

/// An API token as listed (never the secret).
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct ApiToken {
    /// Its id.
    pub id: Uuid,
    /// What its creator called it.
    pub name: String,
    /// Its first characters, to recognise it.
    pub prefix: String,
    /// The role it acts with (capped by its creator's current role).
    pub role: Role,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The columns of the record, for `returning` and `select`.
macro_rules! columns {
    () => {
        "id, name, prefix, role, created_by, created_at, last_used_at, expires_at"
    };
}

/// A token just created: the secret, shown this once, and its record.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The secret (`dash_pat_…`).
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub api_token: ApiToken,
}

/// The body of `POST /api/v2/orgs/{org}/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// What it is for (1–200 characters).
    #[schema(schema_with = name_schema)]
    name: String,
    /// The role it acts with: at most the creator's, never `owner`; the creator's (capped at
    /// `admin`) when absent.
    role: Option<Role>,
    /// Days until it stops working (90 when absent).
    #[serde(default, deserialize_with = "crate::api::optional_integer")]
    #[schema(minimum = 1, maximum = 366)]
    expires_in_days: Option<u32>,
}

/// A new API token of the caller for this organization: the secret is shown this once. Only from
/// a signed-in session (a token cannot mint tokens).
#[utoipa::path(
    post,
    path = "/api/v2/orgs/{org}/tokens",
    tag = "tokens",
    params(("org" = String, Path, description = "The organization's slug")),
    request_body = NewToken,
    responses(
        (status = 201, description = "Created; keep `token`, it is not shown again", body = CreatedApiToken),
        (status = 403, description = "Called with an API token, or a role above the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name out of shape, `owner`, or an expiry out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    mut member: Member,
    Json(new): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), Error> {
    if !matches!(member.credential, Credential::Session(_)) {
        return Err(Error::ForbiddenBecause(
            "API tokens are created from a signed-in session, not with an API token".into(),
        ));
    }
    let created = create_api_token(
        &mut member.tx,
        member.account,
        &new.name,
        new.role,
        new.expires_in_days,
    )
    .await?;
    member.tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates an API token of `creator` in the organization of `tx` and records it in the audit log
/// (the API and `dashboard token create` both use this). `role` defaults to the creator's, capped
/// at admin; `expires_in_days` to [`DEFAULT_EXPIRY_DAYS`].
pub async fn create_api_token(
    tx: &mut TenantTx,
    creator: Uuid,
    name: &str,
    role: Option<Role>,
    expires_in_days: Option<u32>,
) -> Result<CreatedApiToken, Error> {
    let name = check_name(name)?;
    let days = expires_in_days.unwrap_or(DEFAULT_EXPIRY_DAYS);
    if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
        return Err(Error::Unprocessable(format!(
            "expires_in_days: must be 1 to {MAX_EXPIRY_DAYS}"
        )));
    }
    let own: Option<Role> =
        sqlx::query_scalar("select role from memberships where account_id = $1")
            .bind(creator)
            .fetch_optional(&mut **tx)
            .await?;
    let own = own.ok_or(Error::NotFound)?;
    let role = role.unwrap_or(own.max(Role::Admin));
    if role == Role::Owner {
        return Err(Error::Unprocessable(
            "an API token acts at most as admin: owners' powers need a signed-in session".into(),
        ));
    }
    if !own.includes(role) {
        return Err(Error::ForbiddenBecause(
            "a token's role cannot be above your own".into(),
        ));
    }
    let (token, hash) = opaque::new_token(API_TOKEN_PREFIX);
    let api_token: ApiToken = sqlx::query_as(concat!(
        "insert into api_tokens (name, token_hash, prefix, role, created_by, expires_at)
         values ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) returning ",
        columns!(),
        ""
    ))
    .bind(name)
    .bind(hash.as_slice())
    .bind(&token[..API_TOKEN_PREFIX.len() + SHOWN_CHARS])
    .bind(role.as_str())
    .bind(creator)
    .bind(i32::try_from(days).map_err(anyhow::Error::from)?)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        audit::Event {
            actor: Some(creator),
            action: "api_token.created",
            target_type: "api_token",
            target_id: api_token.id.to_string(),
            details: json!({ "name": api_token.name, "role": api_token.role, "days": days }),
        },
    )
    .await?;
    Ok(CreatedApiToken { token, api_token })
}

/// The live API tokens: the caller's own; admins and owners see everyone's.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/tokens",
    tag = "tokens",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, description = "Newest first", body = [ApiToken]))
)]
pub(crate) async fn list(mut member: Member) -> Result<Json<Vec<ApiToken>>, Error> {
    let everyone = OrgPermission::ManageTokens.allows(member.org.role);
    Ok(Json(
        list_api_tokens(&mut member.tx, member.account, everyone).await?,
    ))
}

/// The live (unrevoked, unexpired) tokens of `account`, or of everyone; at most 1000, newest first.
pub async fn list_api_tokens(
    tx: &mut TenantTx,
    account: Uuid,
    everyone: bool,
) -> Result<Vec<ApiToken>, Error> {
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from api_tokens
         where revoked_at is null and (expires_at is null or expires_at > now())
           and ($2 or created_by = $1)
         order by created_at desc, id limit 1000"
    ))
    .bind(account)
    .bind(everyone)
    .fetch_all(&mut **tx)
    .await?)
}

/// Revokes an API token: one's own; admins and owners anyone's.
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/tokens/{id}",
    tag = "tokens",
    params(
        ("org" = String, Path, description = "The organization's slug"),
        ("id" = Uuid, Path, description = "The token's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such live token (of the caller's, unless an admin)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke(
    mut member: Member,
    Path((_, id)): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    let anyone = OrgPermission::ManageTokens.allows(member.org.role);
    let revoked = revoke_api_token(&mut member.tx, member.account, anyone, id).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "api_token.revoked",
            target_type: "api_token",
            target_id: id.to_string(),
            details: json!({ "name": revoked.name, "created_by": revoked.created_by }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes token `id` on behalf of `account`; unless `anyone`, only their own (another's is not
/// found, as it is not listed to them).
pub async fn revoke_api_token(
    tx: &mut TenantTx,
    account: Uuid,
    anyone: bool,
    id: Uuid,
) -> Result<ApiToken, Error> {
    sqlx::query_as(concat!(
        "update api_tokens set revoked_at = now()
         where id = $1 and revoked_at is null and ($3 or created_by = $2) returning ",
        columns!(),
        ""
    ))
    .bind(id)
    .bind(account)
    .bind(anyone)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)
}
