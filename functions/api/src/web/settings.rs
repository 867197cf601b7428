//! The organization's settings, one page per permission of the matrix so that each is reachable
//! only by the roles allowed it: members and plan and one's own API tokens (every member), the
//! repositories (connect by git URL or a GitHub repository's webhook, disconnect), invitations,
//! the security policy, the audit log. Every form calls the JSON API's own handler with the body
//! it would have received, so the checks and the audit records are the same.

use askama::Template;
use axum::{
    Extension, Form, Json,
    extract::{Path, Query, State},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::{Error, domain::Role, plan::PlanUsage};
use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, body, render},
};
use crate::{
    AppState,
    api::{
        github::{self, model::InstallQuery},
        pagination::PageRequest,
        plan,
        repositories::{
            self,
            db::list_repositories,
            model::{Repository, RepositoryFilter},
        },
    },
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    orgs::{
        audit_log::{AuditEvent, AuditQuery, list_audit_events},
        invitations::{self, Invitation, list_invitations},
        members::{self, MemberEntry, list_members},
        settings as org_settings,
        tokens::{self, ApiToken, list_api_tokens},
    },
    routes::Route,
};

/// The pages and forms of this module.
pub fn routes() -> Vec<Route> {
    use OrgPermission::*;
    let page = |path, permission, handler| {
        Route::new(Method::GET, path, Permission::Org(permission), handler)
    };
    let form = |path, permission, handler| {
        Route::new(Method::POST, path, Permission::Org(permission), handler)
    };
    vec![
        page("/orgs/{org}/settings", View, get(general)),
        page(
            "/orgs/{org}/settings/repositories",
            ManageRepositories,
            get(repositories_page),
        ),
        page(
            "/orgs/{org}/settings/invitations",
            ManageInvitations,
            get(invitations_page),
        ),
        page(
            "/orgs/{org}/settings/security",
            EditSecurity,
            get(security_page),
        ),
        page("/orgs/{org}/settings/audit", ReadAuditLog, get(audit_page)),
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
        form(
            "/orgs/{org}/settings/repositories",
            ManageRepositories,
            post(connect),
        ),
        form(
            "/orgs/{org}/settings/repositories/{id}/disconnect",
            ManageRepositories,
            post(disconnect),
        ),
        page(
            "/orgs/{org}/settings/github/install",
            ManageRepositories,
            get(install_app),
        ),
        form(
            "/orgs/{org}/settings/github/repositories",
            ManageRepositories,
            post(connect_webhook),
        ),
        form(
            "/orgs/{org}/settings/invitations",
            ManageInvitations,
            post(invite),
        ),
        form(
            "/orgs/{org}/settings/invitations/{id}/revoke",
            ManageInvitations,
            post(revoke_invitation),
        ),
        form(
            "/orgs/{org}/settings/security",
            EditSecurity,
            post(change_security),
        ),
    ]
}

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
    let mut chrome = Chrome::signed_out("New API token", &csrf);
    chrome.signed_in = true;
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

#[derive(Template)]
#[template(path = "settings_repositories.html")]
struct RepositoriesPage {
    chrome: Chrome,
    repositories: Vec<Repository>,
    github_app: bool,
}

async fn repositories_page(
    State(state): State<AppState>,
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Repositories", "settings").await?;
    let page = PageRequest {
        limit: 200,
        after: None,
    };
    let repositories =
        list_repositories(&mut member.tx, &RepositoryFilter::default(), &page).await?;
    Ok(render(&RepositoriesPage {
        chrome,
        repositories,
        github_app: state.config.github.app().is_ok(),
    }))
}

#[derive(Deserialize)]
struct ConnectForm {
    url: String,
    token: Option<String>,
}

async fn connect(
    state: State<AppState>,
    member: Member,
    Path(org): Path<String>,
    Form(form): Form<ConnectForm>,
) -> Result<Response, Error> {
    let mut fields = json!({ "url": form.url.trim() });
    if let Some(token) = form.token.filter(|t| !t.trim().is_empty()) {
        fields["token"] = Value::String(token.trim().to_owned());
    }
    let _connected = repositories::connect(state, member, body(fields)?).await?;
    Ok(back(&org, "/repositories"))
}

async fn disconnect(
    state: State<AppState>,
    member: Member,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    repositories::disconnect(state, member, Path((org.clone(), id))).await?;
    Ok(back(&org, "/repositories"))
}

/// Installing the GitHub App: on to GitHub, back to this page at the end.
async fn install_app(
    state: State<AppState>,
    member: Member,
    Path(org): Path<String>,
    jar: CookieJar,
) -> Result<Response, Error> {
    let query = InstallQuery {
        return_to: Some(format!("/orgs/{org}/settings/repositories")),
    };
    github::install::start(state, member, Query(query), jar).await
}

#[derive(Deserialize)]
struct WebhookForm {
    full_name: String,
    token: String,
}

async fn connect_webhook(
    state: State<AppState>,
    member: Member,
    Path(org): Path<String>,
    Form(form): Form<WebhookForm>,
) -> Result<Response, Error> {
    let fields = json!({ "full_name": form.full_name.trim(), "token": form.token });
    let _connected = github::hooks::connect(state, member, body(fields)?).await?;
    Ok(back(&org, "/repositories"))
}

#[derive(Template)]
#[template(path = "settings_invitations.html")]
struct InvitationsPage {
    chrome: Chrome,
    invitations: Vec<Invitation>,
    roles: &'static [Role],
}

async fn invitations_page(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Invitations", "settings").await?;
    let invitations = list_invitations(&mut member.tx).await?;
    Ok(render(&InvitationsPage {
        chrome,
        invitations,
        roles: &Role::ALL,
    }))
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: String,
}

async fn invite(
    state: State<AppState>,
    member: Member,
    Path(org): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Response, Error> {
    let new = body(json!({ "email": form.email.trim(), "role": form.role }))?;
    let _invited = invitations::create(state, member, new).await?;
    Ok(back(&org, "/invitations"))
}

async fn revoke_invitation(
    member: Member,
    Path((org, id)): Path<(String, Uuid)>,
) -> Result<Response, Error> {
    invitations::revoke(member, Path((org.clone(), id))).await?;
    Ok(back(&org, "/invitations"))
}

#[derive(Template)]
#[template(path = "settings_security.html")]
struct SecurityPage {
    chrome: Chrome,
    require_mfa: bool,
}

async fn security_page(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Security", "settings").await?;
    let org = crate::orgs::read_organization(&mut member.tx).await?;
    Ok(render(&SecurityPage {
        chrome,
        require_mfa: org.require_mfa,
    }))
}

#[derive(Deserialize)]
struct SecurityForm {
    require_mfa: Option<String>,
}

async fn change_security(
    member: Member,
    Path(org): Path<String>,
    Form(form): Form<SecurityForm>,
) -> Result<Response, Error> {
    let on = form.require_mfa.is_some();
    let _changed = org_settings::update(member, body(json!({ "require_mfa": on }))?).await?;
    Ok(back(&org, "/security"))
}

#[derive(Template)]
#[template(path = "settings_audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<AuditEvent>,
}

async fn audit_page(
    mut member: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let chrome = Chrome::member(&mut member, &csrf, "Audit log", "settings").await?;
    let query = AuditQuery {
        limit: Some(50),
        before: None,
    };
    let events = list_audit_events(&mut member.tx, &query).await?.events;
    Ok(render(&AuditPage { chrome, events }))
}
