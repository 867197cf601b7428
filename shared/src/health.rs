//! `/healthz` (the process is alive) and `/readyz` (the database answers), served by every function.

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

async fn readyz(State(db): State<Db>) -> Result<&'static str, Error> {
    db.ping()
        .await
        .map_err(|error| Error::Unavailable(error.into()))?;
    Ok("ready")
}
