//! The repositories page of the settings (admins): the connected repositories with their state,
//! connecting one by git URL, through the GitHub App or with a GitHub repository's webhook, and
//! disconnecting one.

use askama::Template;
use axum::{
    Extension, Form,
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{back, form, page};
use crate::{
    AppState,
    api::{
        github::{self, model::InstallQuery},
        pagination::PageRequest,
        repositories::{
            self,
            db::list_repositories,
            model::{Repository, RepositoryFilter},
        },
    },
    auth::{context::Member, permission::OrgPermission::ManageRepositories},
    routes::Route,
    web::{
        csrf::CsrfToken,
        layout::{Chrome, body, render},
    },
};

/// The page and forms of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        page(
            "/orgs/{org}/settings/repositories",
            ManageRepositories,
            get(repositories_page),
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
    ]
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
