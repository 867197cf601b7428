//! The organization's data under `/api/v2/orgs/{org}/…`: one folder per resource, each with its
//! routes and OpenAPI annotations (`mod.rs`), its queries as verb-first functions on a tenant
//! transaction (`db.rs`, compile-checked SQL) and its wire types (`model.rs`). The conventions every
//! list shares — cursor pages, entity tags, problem+json — live beside them.

pub mod commits;
pub mod etag;
pub mod github;
pub mod jobs;
pub mod links;
pub mod overview;
pub mod pagination;
pub mod plan;
pub mod projects;
pub mod repositories;
pub mod tasks;
pub mod unlinked;

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use utoipa::ToSchema;

use crate::routes::Route;

/// Every data route.
pub fn routes() -> Vec<Route> {
    [
        projects::routes(),
        tasks::routes(),
        commits::routes(),
        overview::routes(),
        links::routes(),
        unlinked::routes(),
        repositories::routes(),
        jobs::routes(),
        plan::routes(),
        github::routes(),
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

/// An optional integer of a JSON body, written `241` or `241.0`: JSON Schema's `integer` is any
/// number without a fraction, so clients and generators send both, and serde's integers refuse
/// the second. `#[serde(default, deserialize_with = "crate::api::optional_integer")]`.
pub fn optional_integer<'de, D, T>(value: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(value)? else {
        return Ok(None);
    };
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (-9.0e15..=9.0e15).contains(f))
            .map(|f| f as i64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{number} is not an integer in range")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional_integer")]
        days: Option<u32>,
    }

    fn days(json: &str) -> Result<Option<u32>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|body| body.days)
    }

    #[test]
    fn an_integer_may_be_written_with_a_zero_fraction_and_nothing_else_passes() {
        assert_eq!(days("{}").unwrap(), None);
        assert_eq!(days(r#"{"days": null}"#).unwrap(), None);
        assert_eq!(days(r#"{"days": 241}"#).unwrap(), Some(241));
        assert_eq!(days(r#"{"days": 241.0}"#).unwrap(), Some(241));
        assert_eq!(days(r#"{"days": 2.41e2}"#).unwrap(), Some(241));
        for refused in ["241.5", "-1", "4294967296", "1e300", "\"241\"", "true"] {
            assert!(
                days(&format!(r#"{{"days": {refused}}}"#)).is_err(),
                "{refused}"
            );
        }
    }
}
