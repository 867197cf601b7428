//! `/healthz` (the process is alive) and `/readyz` (the database answers), served by every function.

use std::time::Duration;

use axum::{Router, extract::State, routing::get};

use crate::{db::Db, error::Error};

/// The two probe routes, bound to `db`.
pub fn router(db: Db) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(db)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Longest a readiness probe waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

async fn readyz(State(db): State<Db>) -> Result<&'static str, Error> {
    match tokio::time::timeout(READY_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => Ok("ready"),
        Ok(Err(error)) => Err(Error::Unavailable(error.into())),
        Err(_) => Err(Error::Unavailable(anyhow::anyhow!(
            "the database did not answer within {READY_TIMEOUT:?}"
        ))),
    }
}
