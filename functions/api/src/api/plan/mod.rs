//! The organization's plan: its name, its limits (repositories, projects, members) and what it uses
//! of them. The limits are enforced where things are added (`shared::plan`); here every member
//! reads them.

use axum::Json;
use dashboard_shared::{
    Error,
    plan::{self, PlanUsage},
};
use utoipa_axum::routes;

use crate::{
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The route of the plan.
pub fn routes() -> Vec<Route> {
    vec![Route::documented(
        Permission::Org(OrgPermission::View),
        routes!(show),
    )]
}

/// The organization's plan, its limits and its usage.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/plan",
    tag = "organizations",
    params(("org" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = PlanUsage))
)]
pub(crate) async fn show(mut member: Member) -> Result<Json<PlanUsage>, Error> {
    Ok(Json(plan::plan_usage(&mut member.tx).await?))
}
