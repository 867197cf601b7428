//! The first page after signing in (the person's only organization, or the list of them) and the
//! organizations page, with a form to create one.

use askama::Template;
use axum::{
    Extension, Form,
    extract::State,
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use dashboard_shared::Error;
use http::Method;
use serde::Deserialize;

use super::{
    csrf::CsrfToken,
    layout::{Chrome, render},
};
use crate::{
    AppState,
    auth::{context::Account, permission::Permission},
    orgs::{NewOrganization, create_organization},
    routes::Route,
    user::{OrgMembership, list_organizations},
};

/// The pages of this module.
pub fn routes() -> Vec<Route> {
    use Permission::SignedIn;
    vec![
        Route::new(Method::GET, "/", SignedIn, get(home)),
        Route::new(Method::GET, "/orgs", SignedIn, get(organizations)),
        Route::new(Method::POST, "/orgs", SignedIn, post(create)),
    ]
}

/// The first page: the person's only organization, or the list to choose from.
async fn home(mut account: Account) -> Result<Response, Error> {
    let orgs = list_organizations(&mut account.tx).await?;
    Ok(match orgs.as_slice() {
        [only] => Redirect::to(&format!("/orgs/{}", only.slug)).into_response(),
        _ => Redirect::to("/orgs").into_response(),
    })
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrganizationsPage {
    chrome: Chrome,
    orgs: Vec<OrgMembership>,
    error: Option<String>,
    slug: String,
    name: String,
}

async fn organizations(
    mut account: Account,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Error> {
    let orgs = list_organizations(&mut account.tx).await?;
    Ok(render(&organizations_view(&csrf, orgs, None, "", "")))
}

fn organizations_view(
    csrf: &CsrfToken,
    orgs: Vec<OrgMembership>,
    error: Option<String>,
    slug: &str,
    name: &str,
) -> OrganizationsPage {
    let mut chrome = Chrome::account("Organizations", csrf);
    chrome.section = "orgs";
    OrganizationsPage {
        chrome,
        orgs,
        error,
        slug: slug.to_owned(),
        name: name.to_owned(),
    }
}

#[derive(Deserialize)]
struct NewOrgForm {
    slug: String,
    name: String,
}

async fn create(
    State(state): State<AppState>,
    mut account: Account,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<NewOrgForm>,
) -> Result<Response, Error> {
    let new = NewOrganization {
        slug: form.slug.trim().to_owned(),
        name: form.name.trim().to_owned(),
    };
    let owner = account.tx.account_id();
    match create_organization(&state.db, owner, &new).await {
        Ok(org) => Ok(Redirect::to(&format!("/orgs/{}", org.slug)).into_response()),
        Err(error @ (Error::Unprocessable(_) | Error::Conflict(_))) => {
            let status = error.status();
            let orgs = list_organizations(&mut account.tx).await?;
            let page =
                organizations_view(&csrf, orgs, Some(error.to_string()), &new.slug, &new.name);
            Ok((status, render(&page)).into_response())
        }
        Err(other) => Err(other),
    }
}
