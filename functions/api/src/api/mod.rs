//! The organization's data under `/api/v2/orgs/{org}/…`: one folder per resource, each with its
//! routes and OpenAPI annotations (`mod.rs`), its queries as verb-first functions on a tenant
//! transaction (`db.rs`, compile-checked SQL) and its wire types (`model.rs`). The conventions every
//! list shares — cursor pages, entity tags, problem+json — live beside them.

pub mod etag;
pub mod jobs;
pub mod pagination;
pub mod plan;
pub mod projects;
pub mod repositories;

use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::Route;

/// Every data route.
pub fn routes() -> Vec<Route> {
    [
        projects::routes(),
        repositories::routes(),
        jobs::routes(),
        plan::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// An error, as every route answers one (RFC 9457 `application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    pub r#type: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for the caller (a field's name first when one is wrong: `limit: …`).
    pub detail: String,
}

/// `%`, `_` and `\` taken literally in a `like` pattern that finds `text` anywhere.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
