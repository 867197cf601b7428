//! Who may come in and what happened: the invitations page (admins), the security policy
//! (owners: require two-factor sign-in) and the audit log (admins).

use askama::Template;
use axum::{
    Extension, Form,
    extract::{Path, State},
    response::Response,
    routing::{get, post},
};
use dashboard_shared::{Error, domain::Role};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{back, form, page};
use crate::{
    AppState,
    auth::{
        context::Member,
        permission::OrgPermission::{EditSecurity, ManageInvitations, ReadAuditLog},
    },
    orgs::{
        audit_log::{AuditEvent, AuditQuery, list_audit_events},
        invitations::{self, Invitation, list_invitations},
        settings as org_settings,
    },
    routes::Route,
    web::{
        csrf::CsrfToken,
        layout::{Chrome, body, render},
    },
};

/// The pages and forms of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        page(
            "/orgs/{org}/settings/invitations",
            ManageInvitations,
            get(invitations_page),
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
        page(
            "/orgs/{org}/settings/security",
            EditSecurity,
            get(security_page),
        ),
        form(
            "/orgs/{org}/settings/security",
            EditSecurity,
            post(change_security),
        ),
        page("/orgs/{org}/settings/audit", ReadAuditLog, get(audit_page)),
    ]
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
