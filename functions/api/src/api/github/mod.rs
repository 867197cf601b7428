//! GitHub repositories, connected two ways:
//! - through the GitHub App: its install flow binds an installation to the organization once the
//!   person proved with their GitHub user access token that they reach it ([`install`]); then the
//!   organization chooses the installation's repositories, or follows its selection on GitHub
//!   ([`installations`]);
//! - without the App: a repository's own webhook, created with a token the person gives and deleted
//!   again on disconnect ([`hooks`], [`disconnect_webhook`]).
//!
//! Connecting and choosing need `ManageRepositories` (admin and up); reading the installations,
//! `ReadData`. The callbacks GitHub sends the browser to are public: their state says who and
//! where. Every call to GitHub goes through [`client`] (no redirects, timeouts, bounded answers).

pub mod client;
pub mod db;
pub(crate) mod hooks;
pub mod install;
mod installations;
pub mod model;
pub mod settings;

use utoipa_axum::routes;

pub use hooks::{POLL_INTERVAL_SECONDS, WebhookRemoval, disconnect_webhook};
pub use settings::GitHubSettings;

use crate::{
    auth::permission::{OrgPermission, Permission},
    routes::Route,
};

/// The routes of the GitHub connections.
pub fn routes() -> Vec<Route> {
    let manage = Permission::Org(OrgPermission::ManageRepositories);
    let read = Permission::Org(OrgPermission::ReadData);
    vec![
        Route::documented(manage, routes!(install::start)),
        Route::documented(Permission::Public, routes!(install::setup)),
        Route::documented(Permission::Public, routes!(install::authorized)),
        Route::documented(read, routes!(installations::list)),
        Route::documented(manage, routes!(installations::update)),
        Route::documented(manage, routes!(installations::disconnect)),
        Route::documented(manage, routes!(installations::available)),
        Route::documented(manage, routes!(installations::choose)),
        Route::documented(manage, routes!(hooks::connect)),
    ]
}
