//! The OpenAPI 3.1 document at `/openapi.json`, built from the route table: every documented route
//! ([`Route::documented`]) adds its operation and the schemas it names. The answers that come from
//! the route's declaration rather than from its handler are added here, once for every route: who
//! may call it and the 401/403/404 of that check, the 429 of the sign-in limiter, the 400/413/415/422
//! of a JSON body or a malformed parameter, a read's `ETag` and 304, a page's `Link`. Built once, on
//! first request.

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};
use http::Method;
use utoipa::{
    PartialSchema as _, ToSchema as _,
    openapi::{
        ComponentsBuilder, Content, InfoBuilder, Object, OpenApi, OpenApiBuilder, Ref, RefOr,
        Required, Type,
        header::Header,
        path::{Operation, ParameterBuilder, ParameterIn, PathItem},
        response::{Response as Answer, ResponseBuilder},
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
    },
};

use crate::{
    api::Problem,
    auth::permission::Permission,
    routes::{self, AUTH_PREFIX, Route, RouteDoc},
};

/// The path of the document.
pub const PATH: &str = "/openapi.json";

/// The route of the document.
pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        PATH,
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
                     API token (`dash_pat_…`, organization routes only). Lists are pages: `limit` \
                     and `cursor`, the next page in `Link: rel=\"next\"`. Reads answer an `ETag`; \
                     send it back in `If-None-Match` to get 304. Errors are \
                     `application/problem+json`. A walk-through with curl is in docs/api.md.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
                )
                .schema(Problem::name(), Problem::schema())
                .build(),
        ))
        .build();
    for Route {
        method,
        path,
        permission,
        doc,
        ..
    } in routes::table()
    {
        let Some(RouteDoc { mut paths, schemas }) = doc else {
            continue;
        };
        for item in paths.paths.values_mut() {
            for operation in operations(item) {
                describe_conventions(operation, &method, &path, permission);
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

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// Adds to `operation` what its route's declaration implies (see the module's summary).
fn describe_conventions(
    operation: &mut Operation,
    method: &Method,
    path: &str,
    permission: Permission,
) {
    describe_caller(operation, permission);
    if path.starts_with(AUTH_PREFIX) {
        let mut answer = problem("Too many requests from this address or on this account");
        answer.headers.insert(
            "Retry-After".into(),
            header(Type::Integer, "Seconds to wait before trying again").into(),
        );
        add(operation, "429", answer);
    }
    if operation.request_body.is_some() {
        add_problem(operation, "400", "The body is not well-formed JSON");
        add_problem(operation, "413", "The body is larger than 2 MB");
        add_problem(operation, "415", "The body is not `application/json`");
        add_problem(
            operation,
            "422",
            "A field of the body is missing, unknown or of the wrong type",
        );
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let named = |wanted: fn(&str) -> bool| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if wanted(&p.name)))
    };
    let (paged, checked) = (named(|n| n == "cursor"), named(|n| n != "org"));
    if checked {
        add_problem(operation, "400", "A parameter is malformed");
    }
    if method == Method::GET {
        tag_reads(operation, paged);
    }
}

/// Who may call: the bearer scheme, a sentence, and the 401/403/404 of the check.
fn describe_caller(operation: &mut Operation, permission: Permission) {
    let who = match permission {
        Permission::Public => return,
        Permission::SignedIn => "Needs a signed-in person: an access token from signing in (API \
                                 tokens are for organization routes only)."
            .to_owned(),
        Permission::Org(needed) => format!(
            "Needs the role {} or stronger in the organization (an access token, or an API token \
             of the organization).",
            needed.least_role().as_str()
        ),
    };
    operation.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    let description = operation.description.take().unwrap_or_default();
    operation.description = Some(format!("{description}\n\n{who}").trim().into());
    add_problem(
        operation,
        "401",
        "No valid credentials (missing, expired or revoked)",
    );
    if matches!(permission, Permission::Org(_)) {
        add_problem(operation, "403", "The caller's role does not allow this");
        add_problem(
            operation,
            "404",
            "No organization with this slug among the caller's",
        );
    }
}

/// A read answered with JSON carries an `ETag`, takes `If-None-Match` and may answer 304; a page
/// (a list with a `cursor`) links to the next one.
fn tag_reads(operation: &mut Operation, paged: bool) {
    let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else {
        return;
    };
    if !ok.content.contains_key("application/json") {
        return;
    }
    ok.headers.insert(
        "ETag".into(),
        header(Type::String, "This answer's entity tag").into(),
    );
    if paged {
        ok.headers.insert(
            "Link".into(),
            header(
                Type::String,
                "`<…>; rel=\"next\"`: the next page, when there is one",
            )
            .into(),
        );
    }
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "An `ETag` of an earlier answer: 304 while it still holds",
        ))
        .schema(Some(Object::with_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(if_none_match.into());
    let not_modified = ResponseBuilder::new()
        .description("The answer has not changed since the `ETag` in `If-None-Match`")
        .header("ETag", header(Type::String, "The current entity tag"))
        .build();
    add(operation, "304", not_modified);
}

fn header(kind: Type, description: &str) -> Header {
    let mut header = Header::new(Object::with_type(kind));
    header.description = Some(description.into());
    header
}

/// An `application/problem+json` answer.
fn problem(description: &str) -> Answer {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name(Problem::name()))),
        )
        .build()
}

fn add_problem(operation: &mut Operation, status: &str, description: &str) {
    add(operation, status, problem(description));
}

/// Adds `answer` for `status`, or when the handler describes that status already, its description
/// as one more cause.
fn add(operation: &mut Operation, status: &str, answer: Answer) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(status) {
        Some(RefOr::T(own)) => {
            if !own.description.contains(&answer.description) {
                own.description = format!("{}; or: {}", own.description, answer.description);
            }
            for (name, header) in answer.headers {
                own.headers.entry(name).or_insert(header);
            }
            if own.content.is_empty() {
                own.content = answer.content;
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(status.into(), answer.into());
        }
    }
}
