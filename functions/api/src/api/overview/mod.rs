//! The overview: an organization's totals (repositories, projects, tasks, commits, links), as the
//! dashboard's first page and `dashboard show` print them. Readable by every member.

pub mod db;
pub mod model;

use axum::Json;
use dashboard_shared::Error;
use utoipa_axum::routes;

use self::model::Totals;
use crate::{
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The routes of the overview.
pub fn routes() -> Vec<Route> {
    vec![Route::documented(
        Permission::Org(OrgPermission::ReadData),
        routes!(show),
    )]
}

/// The organization's totals.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/overview",
    tag = "overview",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = Totals))
)]
pub(crate) async fn show(mut member: Member) -> Result<Json<Totals>, Error> {
    Ok(Json(db::count_totals(&mut member.tx).await?))
}
