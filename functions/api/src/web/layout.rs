//! What every page shares: the [`Chrome`] around its content (title, navigation, the
//! organization switcher, the CSRF token of its forms, the assets' addresses) and [`render`].

use askama::Template;
use axum::response::Response;
use dashboard_shared::{Error, domain::Role};

use super::{assets, csrf::CsrfToken, errors};
use crate::{
    auth::{context::Member, permission::OrgPermission},
    user::{OrgMembership, list_organizations_of},
};

/// The frame of a page.
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// The token every form of the page carries.
    pub csrf: String,
    /// The organization the page is about, with what the viewer may do there.
    pub org: Option<OrgNav>,
    /// The viewer's organizations (the switcher).
    pub orgs: Vec<OrgMembership>,
    /// The navigation entry to mark current.
    pub section: &'static str,
    /// Whether someone is signed in (the sign-out button).
    pub signed_in: bool,
    /// The stylesheet's address.
    pub css: &'static str,
    /// The script's address.
    pub js: &'static str,
}

/// The current organization, as the navigation shows it.
pub struct OrgNav {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The viewer's role.
    pub role: Role,
    /// May create tasks and links, confirm suggestions.
    pub write: bool,
    /// May manage repositories, members, invitations, the audit log.
    pub admin: bool,
    /// May change the security policy.
    pub owner: bool,
}

impl Chrome {
    /// A page outside any session (an error).
    pub fn bare(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            csrf: String::new(),
            org: None,
            orgs: Vec::new(),
            section: "",
            signed_in: false,
            css: assets::css_href(),
            js: assets::js_href(),
        }
    }

    /// A page for someone not signed in (sign-in, sign-up, reset).
    pub fn signed_out(title: &str, csrf: &CsrfToken) -> Self {
        Self {
            csrf: csrf.0.clone(),
            ..Self::bare(title)
        }
    }

    /// A page of a signed-in person outside any organization (their organizations, a new token).
    pub fn account(title: &str, csrf: &CsrfToken) -> Self {
        Self {
            signed_in: true,
            ..Self::signed_out(title, csrf)
        }
    }

    /// A page of `member`'s organization, in `section`.
    pub async fn member(
        member: &mut Member,
        csrf: &CsrfToken,
        title: impl Into<String>,
        section: &'static str,
    ) -> Result<Self, Error> {
        let orgs = list_organizations_of(&mut member.tx, member.account).await?;
        let role = member.org.role;
        let name = orgs
            .iter()
            .find(|o| o.slug == member.org.slug)
            .map_or_else(|| member.org.slug.clone(), |o| o.name.clone());
        Ok(Self {
            title: title.into(),
            csrf: csrf.0.clone(),
            org: Some(OrgNav {
                slug: member.org.slug.clone(),
                name,
                role,
                write: OrgPermission::WriteData.allows(role),
                admin: OrgPermission::ManageRepositories.allows(role),
                owner: OrgPermission::EditSecurity.allows(role),
            }),
            orgs,
            section,
            signed_in: true,
            css: assets::css_href(),
            js: assets::js_href(),
        })
    }

    /// The current organization's name ("" outside one).
    pub fn org_name(&self) -> &str {
        self.org.as_ref().map_or("", |o| o.name.as_str())
    }

    /// The current organization's slug ("" outside one).
    pub fn slug(&self) -> &str {
        self.org.as_ref().map_or("", |o| o.slug.as_str())
    }
}

/// A form's fields as the JSON body of the API handler they go to, so that its own checks apply.
pub fn body<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<axum::Json<T>, Error> {
    serde_json::from_value(value)
        .map(axum::Json)
        .map_err(|e| Error::Unprocessable(e.to_string()))
}

/// `page` rendered as the response.
pub fn render(page: &impl Template) -> Response {
    errors::html(page.render())
}

/// The query of a filter form: the fields left empty dropped (a form sends `status=` for "any"),
/// the rest read as `T`. A value that does not fit is a 400 naming it.
pub struct FilterQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for FilterQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Error> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
                .map_err(|e| Error::BadRequest(e.to_string()))?;
        let kept: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
        let query =
            serde_urlencoded::to_string(&kept).map_err(|e| Error::BadRequest(e.to_string()))?;
        serde_urlencoded::from_str(&query)
            .map(FilterQuery)
            .map_err(|e| Error::BadRequest(format!("a filter does not fit: {e}")))
    }
}

/// The value of filter `name` in the current query ("" when absent), to keep a form filled in.
pub fn filled(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
