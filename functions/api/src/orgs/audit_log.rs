//! Reading an organization's audit log (admins and owners): newest first, a page at a time, the
//! next page named by a cursor on (created_at, id).

use axum::{Json, extract::Query, routing::get};
use chrono::{DateTime, Utc};
use dashboard_shared::{Error, TenantTx};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
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
    vec![Route::new(
        Method::GET,
        "/api/v2/orgs/{org}/audit-log",
        Permission::Org(OrgPermission::ReadAuditLog),
        get(list),
    )]
}

/// One recorded event.
#[derive(Debug, Serialize, sqlx::FromRow)]
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
#[derive(Debug, Serialize)]
pub struct AuditPage {
    /// The events, newest first.
    pub events: Vec<AuditEvent>,
    /// The `before` of the next page, when there may be one.
    pub next_before: Option<String>,
}

/// The query of `GET /api/v2/orgs/{org}/audit-log`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Events per page, 1 to [`MAX_LIMIT`].
    pub limit: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<String>,
}

/// `GET /api/v2/orgs/{org}/audit-log?limit=&before=`.
async fn list(
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
            "limit must be 1 to {MAX_LIMIT}"
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

/// `<microseconds since the epoch>.<id>`, as [`AuditPage::next_before`] writes it.
fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), Error> {
    let invalid = || Error::Unprocessable("before must be a next_before of this log".into());
    let (micros, id) = raw.split_once('.').ok_or_else(invalid)?;
    let at = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok((at, id.parse().map_err(|_| invalid())?))
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
        for bad in ["", "1.2", "x.00000000-0000-0000-0000-000000000000", "12345"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
