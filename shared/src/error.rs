//! The one error type every handler returns, rendered as RFC 9457 `application/problem+json`.
//! Client errors carry their status and a message meant for the caller; internal errors are logged
//! once here, at the edge, and answered with a generic 500 that reveals nothing.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header::CONTENT_TYPE};
use serde::Serialize;

/// An error as the caller sees it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input: the message says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but the role does not allow this.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// Authenticated, but not allowed for the reason given (a policy the caller can act on).
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Absent, or another tenant's (never reveal which).
    #[error("not found")]
    NotFound,
    /// Conflicts with the current state of a resource.
    #[error("{0}")]
    Conflict(String),
    /// It existed and is no more (an expired, revoked or used link): the message says which.
    #[error("{0}")]
    Gone(String),
    /// Well-formed but semantically invalid input.
    #[error("{0}")]
    Unprocessable(String),
    /// The request body is larger than this route accepts.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// The request body did not arrive in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// The request body's content type is not accepted here.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Another service we called on the caller's behalf (GitHub) failed or answered in a way the
    /// caller cannot fix: the message says what it answered (never a secret).
    #[error("{0}")]
    BadGateway(String),
    /// A dependency (the database) is down; the caller may retry.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unexpected failure; details go to the log only.
    #[error("internal server error")]
    Internal(#[from] anyhow::Error),
}

/// The problem+json body.
#[derive(Debug, Serialize)]
struct Problem {
    r#type: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for Error {
    /// Constraint violations become generic client errors (their details could describe another
    /// tenant's rows); an exhausted or unreachable pool is 503; anything else is internal.
    fn from(error: sqlx::Error) -> Self {
        if let Some(db) = error.as_database_error() {
            match db.code().as_deref() {
                Some("23505") => {
                    return Self::Conflict("this conflicts with an existing resource".into());
                }
                Some("23503") => {
                    return Self::Unprocessable(
                        "this refers to something that does not exist".into(),
                    );
                }
                _ => {}
            }
        }
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable(error.into())
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(source) => tracing::error!(error = ?source, "request failed"),
            Self::Unavailable(source) => tracing::warn!(error = %source, "dependency unavailable"),
            Self::BadGateway(detail) => tracing::warn!(detail, "an upstream service failed"),
            _ => {}
        }
        problem(status, self.to_string())
    }
}

/// A problem+json answer with `status` and `detail`.
fn problem(status: StatusCode, detail: String) -> Response {
    let body = Problem {
        r#type: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// The longest plain-text error answer rewritten by [`problem_for_plain_errors`].
const PLAIN_ERROR_LIMIT: usize = 4096;

/// Response middleware (`axum::middleware::map_response`): an error answered in plain text — the
/// rejections of axum's own extractors (a body that is not JSON or lacks a field, a path id that is
/// not a UUID, a method not allowed) — is answered in the one problem+json shape instead, with the
/// same status and its text as the detail.
pub async fn problem_for_plain_errors(response: Response) -> Response {
    let plain = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|value| value.starts_with("text/plain"));
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), PLAIN_ERROR_LIMIT)
        .await
        .map(|text| String::from_utf8_lossy(&text).trim().to_owned())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    problem(status, detail)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn render(error: Error) -> (StatusCode, String, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn client_errors_keep_their_message() {
        let (status, content_type, body) = render(Error::BadRequest("name is empty".into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["detail"], "name is empty");
    }

    #[tokio::test]
    async fn a_resource_gone_answers_410_with_its_reason() {
        let (status, _, body) = render(Error::Gone("this invitation has expired".into())).await;
        assert_eq!(status, StatusCode::GONE);
        assert_eq!(body["title"], "Gone");
        assert_eq!(body["detail"], "this invitation has expired");
    }

    #[tokio::test]
    async fn internal_errors_reveal_nothing() {
        let secret = anyhow::anyhow!("connection to postgres://app:hunter2@db failed");
        let (status, _, body) = render(Error::Internal(secret)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["detail"], "internal server error");
        assert!(!body.to_string().contains("hunter2"));
    }

    #[test]
    fn an_exhausted_pool_is_unavailable() {
        assert_eq!(
            Error::from(sqlx::Error::PoolTimedOut).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            Error::from(sqlx::Error::RowNotFound).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
