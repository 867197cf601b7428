//! The organization's settings, one page per permission of the matrix so that each is reachable
//! only by the roles allowed it: members and plan and one's own API tokens (every member), the
//! repositories (connect by git URL or a GitHub repository's webhook, disconnect), invitations,
//! the security policy, the audit log. Every form calls the JSON API's own handler with the body
//! it would have received, so the checks and the audit records are the same.

mod access;
mod repositories;

use askama::Template;
use axum::{
    Extension, Form, Json,
    extract::Path,
    response::{IntoResponse as _, Redirect, Response},
    routing::{MethodRouter, get, post},
};
use dashboard_shared::{Error, domain::Role, plan::PlanUsage};
use http::Method;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, body, render},
};
use crate::{
    AppState,
    api::plan,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    orgs::{
        members::{self, MemberEntry, list_members},
        tokens::{self, ApiToken, list_api_tokens},
    },
    routes::Route,
};

/// The pages and forms of this module.
pub fn routes() -> Vec<Route> {
    use OrgPermission::{ManageMembers, OwnTokens, View};
    let mut routes = vec![
        Route::new(
            Method::GET,
            "/orgs/{org}/settings",
            Permission::Org(View),
            get(general),
        ),
        form(
            "/orgs/{org}/settings/members/{id}/role",
            ManageMembers,
            post(change_role),
        ),
        form(
            "/orgs/{org}/settings/members/{id}/remove",
            ManageMembers,
            post(remove_member),
        ),
        form("/orgs/{org}/settings/tokens", OwnTokens, post(create_token)),
        form(
            "/orgs/{org}/settings/tokens/{id}/revoke",
            OwnTokens,
            post(revoke_token),
        ),
    ];
    routes.extend(repositories::routes());
    routes.extend(access::routes());
    routes
}

/// A page of the settings, needing `permission`.
fn page(path: &'static str, permission: OrgPermission, handler: MethodRouter<AppState>) -> Route {
    Route::new(Method::GET, path, Permission::Org(permission), handler)
}

/// A form of the settings, needing `permission`.
fn form(path: &'static str, permission: OrgPermission, handler: MethodRouter<AppState>) -> Route {
    Route::new(Method::POST, path, Permission::Org(permission), handler)
}

/// The settings page `page` of `org`, after a form.
fn back(org: &str, page: &str) -> Response {
    Redirect::to(&format!("/orgs/{org}/settings{page}")).into_response()
}

#[derive(Template)]
#[template(path = "settings.html")]
struct GeneralPage {
    chrome: Chrome,
    members: Vec<MemberEntry>,
    tokens: Vec<ApiToken>,
    plan: PlanUsage,
    roles: &'static [Role],
    me: Uuid,
}

async fn general(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Settings", "settings").await?;
    let members = list_members(&mut member.tx).await?;
    let me = member.account;
    let anyone = OrgPermission::ManageTokens.allows(member.org.role);
    let tokens = list_api_tokens(&mut member.tx, member.account, anyone).await?;
    let Json(plan) = plan::show(member).await?;
    Ok(render(&GeneralPage {
        chrome,
        members,
        tokens,
        plan,
        roles: &Role::ALL,
        me,
    }))
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    member: Member,
    Path((org, id)): Path<(String, Uuid)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, Error> {
    members::change_role(
        member,
        Path((org.clone(), id)),
        body(json!({ "role": form.role }))?,
    )
    .await?;
    Ok(back(&org, ""))
}

async fn remove_member(
    member: Member,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    members::remove(member, Path((org.clone(), id))).await?;
    Ok(back(&org, ""))
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    role: String,
    expires_in_days: String,
}

async fn create_token(
    member: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path(org): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, Error> {
    let days: u32 = form
        .expires_in_days
        .trim()
        .parse()
        .map_err(|_| Error::Unprocessable("expires_in_days: a whole number of days".into()))?;
    let new = body(json!({ "name": form.name, "role": form.role, "expires_in_days": days }))?;
    let (_, Json(created)) = tokens::create(member, new).await?;
    // Shown once, on the page that answers the form: never stored, never in an address.
    let chrome = Chrome::account("New API token", &csrf);
    Ok(render(&TokenCreatedPage {
        chrome,
        token: created.token,
        name: created.api_token.name,
        back: format!("/orgs/{org}/settings"),
    }))
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreatedPage {
    chrome: Chrome,
    token: String,
    name: String,
    back: String,
}

async fn revoke_token(
    member: Member,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    tokens::revoke(member, Path((org.clone(), id))).await?;
    Ok(back(&org, ""))
}
