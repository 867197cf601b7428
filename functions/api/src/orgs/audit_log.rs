//! Reading an organization's audit log (admins and owners): newest first, a page at a time, the
//! next page named by a cursor on (created_at, id).

use axum::{Json, extract::Query};
use chrono::{DateTime, Utc};
use dashboard_shared::{Error, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{
    api::Problem,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// Events per page when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most events per page.
pub const MAX_LIMIT: i64 = 200;

/// The route of the audit log.
pub fn routes() -> Vec<Route> {
    vec![Route::documented(
        Permission::Org(OrgPermission::ReadAuditLog),
        routes!(list),
    )]
}

/// One recorded event.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// Who acted (none for the system).
    pub actor_account_id: Option<Uuid>,
    /// What happened (`member.role_changed`, …).
    pub action: String,
    /// The kind of thing it happened to.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// The rest.
    pub details: Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The events, newest first.
    pub events: Vec<AuditEvent>,
    /// The `before` of the next page, when there may be one.
    pub next_before: Option<String>,
}

/// The query of `GET /api/v2/orgs/{org}/audit-log`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_before` of the previous page.
    #[param(
        pattern = "^[0-9]{1,18}\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub before: Option<String>,
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/audit-log",
    tag = "audit-log",
    params(("org" = String, Path, description = "The organization's slug"), AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 422, description = "A limit out of range, or a `before` this log did not give", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    mut member: Member,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, Error> {
    Ok(Json(list_audit_events(&mut member.tx, &query).await?))
}

/// A page of the audit log of the organization of `tx`.
pub async fn list_audit_events(tx: &mut TenantTx, query: &AuditQuery) -> Result<AuditPage, Error> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::Unprocessable(format!(
            "limit: must be 1 to {MAX_LIMIT}"
        )));
    }
    let before = query.before.as_deref().map(parse_cursor).transpose()?;
    let events: Vec<AuditEvent> = sqlx::query_as(
        "select id, actor_account_id, action, target_type, target_id, details, created_at
         from audit_log
         where $1::timestamptz is null or (created_at, id) < ($1, $2)
         order by created_at desc, id desc
         limit $3",
    )
    .bind(before.map(|(at, _)| at))
    .bind(before.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let full = i64::try_from(events.len()).is_ok_and(|n| n == limit);
    let next_before = events
        .last()
        .filter(|_| full)
        .map(|last| format!("{}.{}", last.created_at.timestamp_micros(), last.id));
    Ok(AuditPage {
        events,
        next_before,
    })
}

/// `<microseconds since the epoch>.<id>`, exactly as [`AuditPage::next_before`] writes it.
fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), Error> {
    let invalid = || Error::Unprocessable("before: not a next_before of this log".into());
    let (micros, id) = raw.split_once('.').ok_or_else(invalid)?;
    if !(1..=18).contains(&micros.len()) || !micros.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let at = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    let parsed: Uuid = id.parse().map_err(|_| invalid())?;
    if parsed.to_string() != id {
        return Err(invalid());
    }
    Ok((at, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_a_page_wrote_and_nothing_else() {
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        let written = format!("{}.{id}", at.timestamp_micros());
        assert_eq!(parse_cursor(&written).unwrap(), (at, id));
        let loose = [
            format!("+1.{id}"),
            format!("-1.{id}"),
            format!("1.{}", id.simple()),
            format!("1.{}", id.to_string().to_uppercase()),
            format!("1.{{{id}}}"),
        ];
        let bad = ["", "1.2", "x.00000000-0000-0000-0000-000000000000", "12345"];
        for bad in bad.iter().copied().chain(loose.iter().map(String::as_str)) {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
