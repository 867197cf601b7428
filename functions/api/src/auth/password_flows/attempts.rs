//! Guesses per account (P6, T5). Every attempt on an account's password or second factor locks
//! its row first (concurrent guesses queue up behind one another), is refused while the backoff
//! of its earlier failures runs or once the password path is locked, and then counts as a failure
//! or clears the count. The refusal comes before the password is checked: while the backoff runs,
//! even the right password gets 429.

use std::time::Duration;

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use dashboard_shared::{AccountTx, Error};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::{
    audit,
    auth::throttle::{delay_after_failures, is_locked},
};

/// Why a sign-in step is refused.
#[derive(Debug)]
pub enum Refusal {
    /// An ordinary error (401 for a wrong password or code).
    Error(Error),
    /// Too many recent failures on the account: 429 with `Retry-After`.
    Throttled(Duration),
    /// [`LOCK_AFTER_FAILURES`](crate::auth::throttle::LOCK_AFTER_FAILURES) failures in a row: 429
    /// until the password is reset by email.
    Locked,
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self::Error(error)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        Self::Error(error.into())
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(error: anyhow::Error) -> Self {
        Self::Error(error.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (detail, retry_after) = match self {
            Self::Error(error) => return error.into_response(),
            Self::Throttled(wait) => {
                let seconds = wait
                    .as_secs()
                    .saturating_add(u64::from(wait.subsec_nanos() > 0));
                let seconds = seconds.max(1);
                let detail =
                    format!("too many failed attempts on this account; try again in {seconds} s");
                (detail, Some(seconds))
            }
            Self::Locked => (
                "too many failed attempts on this account: reset its password by email \
                 (POST /api/v2/auth/password-reset)"
                    .to_owned(),
                None,
            ),
        };
        let status = StatusCode::TOO_MANY_REQUESTS;
        let body = serde_json::json!({
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": status.as_u16(),
            "detail": detail,
        });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Locks the row of the account of `tx` for this attempt and refuses it while the backoff runs,
/// when the password path is locked, or when the account is disabled (401, like a wrong password).
pub async fn begin(tx: &mut AccountTx) -> Result<(), Refusal> {
    let row: Option<(i32, Option<DateTime<Utc>>, bool)> = sqlx::query_as(
        "select failed_sign_ins, last_failed_at, disabled_at is not null
         from accounts where id = $1 for update",
    )
    .bind(tx.account_id())
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some((failures, last_failed_at, false)) => check(failures, last_failed_at, Utc::now()),
        _ => Err(Error::Unauthorized.into()),
    }
}

/// Whether an attempt at `now` may go ahead after `failures` consecutive failures, the last at
/// `last_failed_at`.
fn check(
    failures: i32,
    last_failed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if is_locked(failures) {
        return Err(Refusal::Locked);
    }
    let (Some(delay), Some(last)) = (delay_after_failures(failures), last_failed_at) else {
        return Ok(());
    };
    let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    let until = last
        .checked_add_signed(delay)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    match (until - now).to_std() {
        Ok(wait) if !wait.is_zero() => Err(Refusal::Throttled(wait)),
        _ => Ok(()),
    }
}

/// Counts a failed attempt and records it in the audit logs of the person's organizations (commit
/// the transaction even though the attempt is refused).
pub async fn failed(tx: &mut AccountTx) -> Result<(), Error> {
    let failures: i32 = sqlx::query_scalar(
        "update accounts set failed_sign_ins = failed_sign_ins + 1, last_failed_at = now()
         where id = $1
         returning failed_sign_ins",
    )
    .bind(tx.account_id())
    .fetch_one(&mut **tx)
    .await?;
    tracing::info!(account.id = %tx.account_id(), failures, "a sign-in attempt failed");
    audit::record_for_account(
        tx,
        "signin.failed",
        json!({ "consecutive_failures": failures }),
    )
    .await
}

/// Clears the count: the person proved who they are.
pub async fn succeeded(tx: &mut AccountTx) -> Result<(), Error> {
    sqlx::query(
        "update accounts set failed_sign_ins = 0, last_failed_at = null
         where id = $1 and failed_sign_ins <> 0",
    )
    .bind(tx.account_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::throttle::{FREE_FAILURES, LOCK_AFTER_FAILURES};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_free_failures_are_never_delayed() {
        assert!(check(FREE_FAILURES, Some(at(0)), at(0)).is_ok());
    }

    #[test]
    fn a_running_backoff_refuses_with_the_time_left_and_ends() {
        let failures = FREE_FAILURES + 4;
        let delay = delay_after_failures(failures).unwrap().as_secs() as i64;
        match check(failures, Some(at(0)), at(3)) {
            Err(Refusal::Throttled(wait)) => assert_eq!(wait.as_secs() as i64, delay - 3),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(check(failures, Some(at(0)), at(delay)).is_ok());
    }

    #[test]
    fn the_hard_cap_locks_however_long_ago_the_last_failure_was() {
        assert!(matches!(
            check(LOCK_AFTER_FAILURES, Some(at(0)), at(86_400 * 365)),
            Err(Refusal::Locked)
        ));
    }
}
