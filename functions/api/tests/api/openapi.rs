//! The OpenAPI document and the reference page that shows it: every route of the table is
//! documented (but the document and the page), says who may call it and answers problems as
//! problem+json; the page and its files are served with their types under a policy that allows
//! only this origin, and the page runs no inline script.

use dashboard_api::{auth::permission::Permission, reference};
use http::{Method, StatusCode, header};
use sqlx::PgPool;

use crate::support::TestApp;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_openapi_document_describes_every_route_but_itself_and_the_reference_page(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let reply = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["openapi"], "3.1.0");
    let table = dashboard_api::routes::table();
    let mut undocumented: Vec<&str> = table
        .iter()
        .filter(|route| route.doc.is_none())
        .map(|route| route.path.as_str())
        .collect();
    undocumented.sort_unstable();
    let mut expected: Vec<&str> = std::iter::once(dashboard_api::openapi::PATH)
        .chain(dashboard_api::reference::ASSETS.iter().map(|a| a.path))
        .collect();
    expected.sort_unstable();
    assert_eq!(undocumented, expected, "every other route is documented");

    for route in table.iter().filter(|route| route.doc.is_some()) {
        let (method, path) = (route.method.as_str().to_lowercase(), &route.path);
        let operation = &reply.json["paths"][path][&method];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        let description = operation["description"].as_str().unwrap_or_default();
        match route.permission {
            Permission::Org(needed) => assert!(
                description.contains(&format!(
                    "Needs the role {} or stronger",
                    needed.least_role().as_str()
                )),
                "{method} {path} says who may call it: {description}"
            ),
            _ => assert!(!description.contains("Needs the role"), "{method} {path}"),
        }
        let secured = operation["security"].is_array();
        assert_eq!(
            secured,
            route.permission != Permission::Public,
            "{method} {path}: the bearer scheme exactly when it needs a caller"
        );
        for (status, answer) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') {
                assert!(
                    answer["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} is a problem: {answer}"
                );
            }
        }
        if secured {
            assert!(operation["responses"]["401"].is_object(), "{method} {path}");
        }
    }
    for schema in ["Project", "Problem", "Organization", "Tokens", "Role"] {
        assert!(
            reply.json["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_reference_page_and_its_files_are_served_with_their_types_under_a_strict_policy(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let page = app.call(Method::GET, reference::PATH, None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("data-openapi=\"/openapi.json\""), "{html}");

    // Every file the page names is served, with its type; nothing comes from another origin.
    let mut named = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for rest in html.split(attribute).skip(1) {
            let url = &rest[..rest.find('"').unwrap()];
            named.push(url.to_owned());
        }
    }
    assert!(
        named.iter().all(|url| url.starts_with('/')),
        "only this origin: {named:?}"
    );
    let scripts = html.matches("<script").count();
    assert_eq!(
        scripts,
        html.matches("<script src=\"").count(),
        "no inline script"
    );
    assert!(
        !html.contains("<style") && !html.contains("style=\""),
        "no inline style"
    );
    let expected_type = |url: &str| {
        if url.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if url.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "application/json"
        }
    };
    let mut served = vec![(reference::PATH.to_owned(), page)];
    for url in named {
        let reply = app.call(Method::GET, &url, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            expected_type(&url),
            "{url}"
        );
        assert!(!reply.body.is_empty(), "{url}");
        served.push((url, reply));
    }
    assert_eq!(
        served[0].1.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let files: Vec<&str> = served.iter().map(|(url, _)| url.as_str()).collect();
    for asset in reference::ASSETS {
        assert!(files.contains(&asset.path), "the page uses {}", asset.path);
    }
    for (url, reply) in served
        .iter()
        .filter(|(url, _)| url.starts_with(reference::PATH))
    {
        assert_eq!(
            reply.headers[header::CONTENT_SECURITY_POLICY],
            reference::POLICY,
            "{url}"
        );
        assert_eq!(
            reply.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{url}"
        );
    }
    let policy = reference::POLICY;
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    assert!(
        !policy.contains("unsafe") && !policy.contains("http"),
        "{policy}"
    );
    let boot = &served
        .iter()
        .find(|(url, _)| url.ends_with("/docs.js"))
        .unwrap()
        .1;
    let boot = String::from_utf8(boot.body.clone()).unwrap();
    assert!(boot.contains("SwaggerUIBundle("), "{boot}");
}
