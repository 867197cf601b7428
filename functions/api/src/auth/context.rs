//! The one place that decides who is calling and what they may do. [`authorize`] runs before every
//! route with the [`Permission`] the route declared: it verifies the bearer credential (our access
//! token, or a personal API token), reads the caller's current membership of the organization in
//! the path (J6: the one database round trip of a token check), applies the role check, the
//! organization's MFA policy and the account's cut-off (J7), and leaves a [`Verified`] caller in the
//! request. Handlers reach data only through the extractors [`Member`] (a tenant transaction as that
//! member) and [`Account`] (an account transaction); either one on a route that declared no matching
//! permission is a 500, which the route-matrix test catches.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{FromRequestParts, Path, Request, State},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use chrono::{DateTime, Utc};
use dashboard_shared::{AccountTx, Error, TenantId, TenantTx, db::TenantRow, domain::Role};
use http::{header::AUTHORIZATION, request::Parts};
use sqlx::{Arguments as _, postgres::PgArguments};
use uuid::Uuid;

use super::{opaque, permission::Permission, session::AccessClaims};
use crate::AppState;

/// How recent a proof of identity sensitive changes need (P7: 10 minutes).
pub const RECENT_AUTH: chrono::Duration = chrono::Duration::minutes(10);

/// The credential a caller presented.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Our access token (a browser or app session), as remembered by [`super::verified`].
    Session(Arc<AccessClaims>),
    /// A personal API token, by its id.
    ApiToken(Uuid),
}

/// A caller whose credential checked out, as [`authorize`] leaves it for the extractors.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The account acting.
    pub account: Uuid,
    /// How it authenticated.
    pub credential: Credential,
    /// The organization and role, on organization routes.
    pub org: Option<OrgGrant>,
}

/// A caller's standing in the organization named by the path.
#[derive(Debug, Clone)]
pub struct OrgGrant {
    /// The organization.
    pub tenant: TenantId,
    /// Its slug (as in the path).
    pub slug: String,
    /// The caller's role: the membership's, capped by an API token's scope.
    pub role: Role,
}

/// The middleware every route runs behind, with the permission it declared.
pub async fn authorize(
    State((state, permission)): State<(AppState, Permission)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match verify(&state, permission, &mut parts).await {
        Ok(Some((verified, tx))) => {
            parts.extensions.insert(verified);
            parts.extensions.insert(OpenTx(Arc::new(Mutex::new(tx))));
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => next.run(Request::from_parts(parts, body)).await,
        Err(error) => error.into_response(),
    }
}

/// The tenant transaction [`authorize`] opened for an organization route, until [`Member`] takes it.
#[derive(Clone)]
struct OpenTx(Arc<Mutex<Option<TenantTx>>>);

async fn verify(
    state: &AppState,
    permission: Permission,
    parts: &mut Parts,
) -> Result<Option<(Verified, Option<TenantTx>)>, Error> {
    match permission {
        Permission::Public => Ok(None),
        Permission::SignedIn => {
            let token = bearer(parts).ok_or(Error::Unauthorized)?;
            let claims = access_claims(state, token).await?;
            let verified = Verified {
                account: claims.sub,
                credential: Credential::Session(claims),
                org: None,
            };
            Ok(Some((verified, None)))
        }
        Permission::Org(needed) => {
            let Path(OrgPath { org: slug }) = Path::<OrgPath>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::NotFound)?;
            let token = bearer(parts).ok_or(Error::Unauthorized)?;
            let (verified, tx) = if token.starts_with(opaque::API_TOKEN_PREFIX) {
                api_token_member(state, token, slug).await?
            } else {
                session_member(state, access_claims(state, token).await?, slug).await?
            };
            let role = verified
                .org
                .as_ref()
                .map(|org| org.role)
                .ok_or(Error::NotFound)?;
            if !needed.allows(role) {
                return Err(Error::Forbidden);
            }
            Ok(Some((verified, Some(tx))))
        }
    }
}

/// The organization an organization route names (its other path parameters are the handler's).
#[derive(serde::Deserialize)]
struct OrgPath {
    org: String,
}

/// The `Authorization: Bearer` value, if any.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

async fn access_claims(state: &AppState, token: &str) -> Result<Arc<AccessClaims>, Error> {
    state
        .verified
        .access_claims(&state.config.keys, token)
        .await
        .ok_or(Error::Unauthorized)
}

/// The caller's membership of the organization with this slug, which also binds the transaction
/// to it (J6: the one round trip of a token check).
const ENTER_AS_MEMBER: &str = "
    select set_config('app.tenant_id', m.tenant_id::text, true),
           set_config('app.account_id', $2::text, true),
           m.tenant_id, m.role, m.require_mfa, m.tokens_valid_after, m.disabled
    from lookup.membership($1, $2) m";

#[derive(sqlx::FromRow)]
struct MembershipRow {
    tenant_id: Uuid,
    role: Role,
    require_mfa: bool,
    tokens_valid_after: DateTime<Utc>,
    disabled: bool,
}

impl TenantRow for MembershipRow {
    fn tenant(&self) -> TenantId {
        TenantId::from_uuid(self.tenant_id)
    }
}

async fn session_member(
    state: &AppState,
    claims: Arc<AccessClaims>,
    slug: String,
) -> Result<(Verified, TenantTx), Error> {
    let mut arguments = PgArguments::default();
    arguments
        .add(&slug)
        .map_err(|error| Error::Internal(anyhow::anyhow!(error)))?;
    arguments
        .add(claims.sub)
        .map_err(|error| Error::Internal(anyhow::anyhow!(error)))?;
    let entered = state
        .db
        .enter::<MembershipRow>(ENTER_AS_MEMBER, arguments)
        .await?;
    let (tx, row) = entered.ok_or(Error::NotFound)?;
    if row.disabled || claims.iat < row.tokens_valid_after.timestamp() {
        return Err(Error::Unauthorized);
    }
    if row.require_mfa && !claims.has_second_factor() {
        return Err(mfa_required());
    }
    let verified = Verified {
        account: claims.sub,
        org: Some(OrgGrant {
            tenant: TenantId::from_uuid(row.tenant_id),
            slug,
            role: row.role,
        }),
        credential: Credential::Session(claims),
    };
    Ok((verified, tx))
}

/// The API token with this hash, which also binds the transaction to its organization and creator.
const ENTER_WITH_API_TOKEN: &str = "
    select set_config('app.tenant_id', k.tenant_id::text, true),
           set_config('app.account_id', coalesce(k.account_id::text, ''), true),
           k.*
    from lookup.api_token($1) k";

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    tenant_id: Uuid,
    slug: String,
    token_id: Uuid,
    account_id: Option<Uuid>,
    token_role: Role,
    member_role: Option<Role>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
    require_mfa: bool,
    mfa_enabled: bool,
    disabled: bool,
}

impl TenantRow for ApiTokenRow {
    fn tenant(&self) -> TenantId {
        TenantId::from_uuid(self.tenant_id)
    }
}

async fn api_token_member(
    state: &AppState,
    token: &str,
    slug: String,
) -> Result<(Verified, TenantTx), Error> {
    let hash = opaque::hash(token);
    let mut arguments = PgArguments::default();
    arguments
        .add(hash.to_vec())
        .map_err(|error| Error::Internal(anyhow::anyhow!(error)))?;
    let entered = state
        .db
        .enter::<ApiTokenRow>(ENTER_WITH_API_TOKEN, arguments)
        .await?;
    let (tx, row) = entered.ok_or(Error::Unauthorized)?;
    let usable = !row.revoked && !row.disabled && row.expires_at.is_none_or(|at| at > Utc::now());
    let (Some(account), Some(member_role), true) = (row.account_id, row.member_role, usable) else {
        return Err(Error::Unauthorized);
    };
    if row.slug != slug {
        return Err(Error::NotFound);
    }
    if row.require_mfa && !row.mfa_enabled {
        return Err(mfa_required());
    }
    // Recorded at most once a minute, so a busy script does not write on every request; in its own
    // transaction, since the request's is rolled back when the handler only reads, and in the
    // background, so the request never waits on a second pooled connection while holding one.
    if row
        .last_used_at
        .is_none_or(|at| Utc::now() - at > chrono::Duration::minutes(1))
    {
        let (db, tenant, token) = (
            state.db.clone(),
            TenantId::from_uuid(row.tenant_id),
            row.token_id,
        );
        tokio::spawn(async move {
            if let Err(error) = record_token_use(&db, tenant, account, token).await {
                tracing::warn!(error = %error, token.id = %token, "recording an API token's use failed");
            }
        });
    }
    let role = row.token_role.max(member_role);
    let verified = Verified {
        account,
        credential: Credential::ApiToken(row.token_id),
        org: Some(OrgGrant {
            tenant: TenantId::from_uuid(row.tenant_id),
            slug: row.slug,
            role,
        }),
    };
    Ok((verified, tx))
}

async fn record_token_use(
    db: &dashboard_shared::Db,
    tenant: TenantId,
    account: Uuid,
    token: Uuid,
) -> Result<(), sqlx::Error> {
    let mut tx = db.member(tenant, account).await?;
    sqlx::query("update api_tokens set last_used_at = now() where id = $1")
        .bind(token)
        .execute(&mut *tx)
        .await?;
    tx.commit().await.map(|_| ())
}

fn mfa_required() -> Error {
    Error::ForbiddenBecause(
        "this organization requires two-factor authentication: turn it on and sign in with it"
            .into(),
    )
}

fn undeclared() -> Error {
    Error::Internal(anyhow::anyhow!(
        "a handler asked for a caller on a route that declared no matching permission"
    ))
}

/// A member acting in the organization named by the path, with a transaction bound to it.
pub struct Member {
    /// The tenant transaction (tenant and account set); commit it to keep changes.
    pub tx: TenantTx,
    /// Who is acting.
    pub account: Uuid,
    /// The organization, slug and role.
    pub org: OrgGrant,
    /// How they authenticated.
    pub credential: Credential,
}

impl Member {
    /// Refuses unless the caller proved who they are within [`RECENT_AUTH`] in this session (P7);
    /// API tokens never qualify.
    pub fn require_recent_auth(&self) -> Result<(), Error> {
        require_recent(&self.credential)
    }
}

impl FromRequestParts<AppState> for Member {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        let verified = parts
            .extensions
            .remove::<Verified>()
            .ok_or_else(undeclared)?;
        let org = verified.org.ok_or_else(undeclared)?;
        let open = parts.extensions.get::<OpenTx>().ok_or_else(undeclared)?;
        let tx = open
            .0
            .lock()
            .map_err(|_| undeclared())?
            .take()
            .ok_or_else(undeclared)?;
        Ok(Self {
            tx,
            account: verified.account,
            org,
            credential: verified.credential,
        })
    }
}

/// A signed-in person acting on their own account, with an account transaction.
pub struct Account {
    /// The account transaction (`app.account_id` set); commit it to keep changes.
    pub tx: AccountTx,
    /// Their access token's claims.
    pub claims: Arc<AccessClaims>,
}

impl Account {
    /// Refuses unless the caller proved who they are within [`RECENT_AUTH`] (P7).
    pub fn require_recent_auth(&self) -> Result<(), Error> {
        require_recent(&Credential::Session(self.claims.clone()))
    }
}

impl FromRequestParts<AppState> for Account {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let verified = parts
            .extensions
            .get::<Verified>()
            .cloned()
            .ok_or_else(undeclared)?;
        let Credential::Session(claims) = verified.credential else {
            return Err(undeclared());
        };
        let mut tx = state.db.account(verified.account).await?;
        let state_row: Option<(DateTime<Utc>, bool)> = sqlx::query_as(
            "select tokens_valid_after, disabled_at is not null from accounts where id = $1",
        )
        .bind(verified.account)
        .fetch_optional(&mut *tx)
        .await?;
        match state_row {
            Some((valid_after, false)) if claims.iat >= valid_after.timestamp() => {
                Ok(Self { tx, claims })
            }
            _ => Err(Error::Unauthorized),
        }
    }
}

fn require_recent(credential: &Credential) -> Result<(), Error> {
    match credential {
        Credential::Session(claims)
            if Utc::now().timestamp() - claims.auth_time <= RECENT_AUTH.num_seconds() =>
        {
            Ok(())
        }
        _ => Err(Error::ForbiddenBecause(
            "confirm who you are first: POST /api/v2/auth/reauthenticate, then retry".into(),
        )),
    }
}
