//! Cursor pagination of every list: `limit` (1–200, default 50) and an opaque `cursor` in the query,
//! the page as a JSON array, the next page's address in `Link: <…>; rel="next"`. A cursor is the
//! sort key of the last row served (base64url JSON), so pages are stable while rows are added, and a
//! list reads `limit + 1` rows by keyset to know whether another page follows.

use axum::{
    Json,
    http::{HeaderValue, Uri, header::LINK},
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use dashboard_shared::Error;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::IntoParams;

/// The most rows one page holds.
pub const MAX_LIMIT: u32 = 200;
/// Rows per page when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// A cursor longer than this is not one we gave.
const MAX_CURSOR_LEN: usize = 1024;

/// The paging part of a list's query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` of the previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
}

/// A checked page request: how many rows, and after which sort key.
#[derive(Debug)]
pub struct PageRequest<K> {
    /// Rows to serve.
    pub limit: u32,
    /// The sort key of the last row of the previous page.
    pub after: Option<K>,
}

impl<K> PageRequest<K> {
    /// Rows to read: one more than served, to know whether a next page exists.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

impl PageQuery {
    /// Checks the limit and decodes the cursor into the list's sort key.
    pub fn parse<K: DeserializeOwned>(&self) -> Result<PageRequest<K>, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::Unprocessable(format!(
                "limit: must be between 1 and {MAX_LIMIT}, not {limit}"
            )));
        }
        let after = self.cursor.as_deref().map(decode).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

fn decode<K: DeserializeOwned>(cursor: &str) -> Result<K, Error> {
    let invalid = || Error::BadRequest("cursor: not a cursor this list gave".into());
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("a sort key serializes"))
}

/// One page of a list, answered as a JSON array with the next page's `Link`.
#[derive(Debug)]
pub struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
    uri: Uri,
}

impl<T: Serialize> Page<T> {
    /// The page from `rows` (read with [`PageRequest::fetch`]): at most `limit` of them, and when
    /// there were more, a link to the page after the last one served, whose key `key` gives.
    pub fn new<K: Serialize>(
        mut rows: Vec<T>,
        request: &PageRequest<impl Sized>,
        uri: Uri,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let limit = request.limit as usize;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            encode(&key(rows.last().expect("limit is at least 1")))
        });
        Self {
            items: rows,
            next,
            uri,
        }
    }

    /// The rows of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The rows, and the address of the next page if there is one (for the web pages).
    pub fn into_rows(self) -> (Vec<T>, Option<String>) {
        let next = self.next_href();
        (self.items, next)
    }

    /// The address of the next page, if there is one: this request's path and query with
    /// `cursor` replaced (the pages' "next" links).
    pub fn next_href(&self) -> Option<String> {
        self.next.as_deref().map(|cursor| self.href(cursor))
    }

    /// The `Link` header's value for the page at `cursor`.
    fn next_link(&self, cursor: &str) -> String {
        format!("<{}>; rel=\"next\"", self.href(cursor))
    }

    /// This request's path and query with `cursor` replaced.
    fn href(&self, cursor: &str) -> String {
        let mut query: Vec<(String, String)> = self
            .uri
            .query()
            .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
            .unwrap_or_default();
        query.retain(|(name, _)| name != "cursor");
        query.push(("cursor".into(), cursor.into()));
        let query = serde_urlencoded::to_string(&query).expect("pairs of strings encode");
        format!("{}?{query}", self.uri.path())
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let link = self.next.as_deref().map(|cursor| self.next_link(cursor));
        let mut response = Json(&self.items).into_response();
        if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(LINK, link);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<PageRequest<(String, i64)>, Error> {
        PageQuery {
            limit,
            cursor: cursor.map(str::to_owned),
        }
        .parse()
    }

    #[test]
    fn a_full_page_links_to_the_next_one_keeping_the_filters() {
        let first = request(Some(2), None).unwrap();
        let uri: Uri = "/api/v2/orgs/acme/projects?type=npm&limit=2"
            .parse()
            .unwrap();
        let rows = vec![
            ("a".to_owned(), 1),
            ("b".to_owned(), 2),
            ("c".to_owned(), 3),
        ];
        let page = Page::new(rows, &first, uri, Clone::clone);
        assert_eq!(page.items().len(), 2);
        let response = page.into_response();
        let link = response.headers()[LINK].to_str().unwrap().to_owned();
        let cursor = encode(&("b", 2));
        assert_eq!(
            link,
            format!("</api/v2/orgs/acme/projects?type=npm&limit=2&cursor={cursor}>; rel=\"next\"")
        );
        let second = request(Some(2), Some(&cursor)).unwrap();
        assert_eq!(second.after, Some(("b".to_owned(), 2)));
    }

    #[test]
    fn the_last_page_has_no_link() {
        let page = Page::new(
            vec![("a".to_owned(), 1)],
            &request(None, None).unwrap(),
            "/x".parse().unwrap(),
            Clone::clone,
        );
        assert!(page.into_response().headers().get(LINK).is_none());
    }

    #[test]
    fn bad_limits_and_foreign_cursors_are_refused() {
        assert_eq!(request(Some(0), None).unwrap_err().status(), 422);
        assert_eq!(request(Some(201), None).unwrap_err().status(), 422);
        assert_eq!(request(Some(200), None).unwrap().limit, 200);
        for cursor in ["!!", "bm90IGpzb24", &"a".repeat(2000)] {
            assert_eq!(request(None, Some(cursor)).unwrap_err().status(), 400);
        }
    }
}
