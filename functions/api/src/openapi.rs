//! The OpenAPI 3.1 document at `/openapi.json`, built from the route table: every documented route
//! ([`Route::documented`]) adds its operation and the schemas it names, and each operation says who
//! may call it (the permission the table declares). Built once, on first request.

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};
use http::Method;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder,
    security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
};

use crate::{
    auth::permission::Permission,
    routes::{self, Route, RouteDoc},
};

/// The route of the document.
pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/openapi.json",
        Permission::Public,
        get(serve),
    )]
}

async fn serve() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_json().expect("the document serializes"));
    let mut response = json.clone().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The document of every documented route.
pub fn document() -> OpenApi {
    let mut document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Dashboard API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "An organization's repositories, projects, tasks, commits and their links. \
                     Authenticate with `Authorization: Bearer` and an access token (sign in) or an \
                     API token (`dash_pat_…`). Lists are pages: `limit` and `cursor`, the next page \
                     in `Link: rel=\"next\"`. Errors are `application/problem+json`.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
                )
                .build(),
        ))
        .build();
    for route in routes::table() {
        let Some(RouteDoc { mut paths, schemas }) = route.doc else {
            continue;
        };
        if route.permission != Permission::Public {
            for item in paths.paths.values_mut() {
                for operation in [
                    &mut item.get,
                    &mut item.post,
                    &mut item.put,
                    &mut item.patch,
                    &mut item.delete,
                ]
                .into_iter()
                .flatten()
                {
                    operation.security = Some(vec![SecurityRequirement::new(
                        "bearer",
                        Vec::<String>::new(),
                    )]);
                    let who = match route.permission {
                        Permission::Org(needed) => format!(
                            "Needs the role {} or stronger in the organization.",
                            needed.least_role().as_str()
                        ),
                        _ => "Needs a signed-in person.".into(),
                    };
                    let description = operation.description.take().unwrap_or_default();
                    operation.description = Some(format!("{description}\n\n{who}").trim().into());
                }
            }
        }
        document.merge(
            OpenApiBuilder::new()
                .paths(paths)
                .components(Some(
                    ComponentsBuilder::new().schemas_from_iter(schemas).build(),
                ))
                .build(),
        );
    }
    document
}
