//! Organizations: creating one makes its creator the owner; only members see it.

use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::support::TestApp;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_creator_of_an_organization_is_its_owner_and_sees_it(admin: PgPool) {
    let app = TestApp::new(admin);
    let (_, token) = app.person("alice@example.test").await;
    app.create_org(&token, "acme").await;

    let org = app
        .call(Method::GET, "/api/v2/orgs/acme", Some(&token), None)
        .await;
    assert_eq!(org.status, StatusCode::OK, "{org:?}");
    assert_eq!(org.json["slug"], "acme");

    let mine = app
        .call(Method::GET, "/api/v2/user/orgs", Some(&token), None)
        .await;
    assert_eq!(
        mine.json,
        json!([{ "slug": "acme", "name": "acme", "role": "owner" }])
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organization_is_not_found_and_a_taken_slug_conflicts(admin: PgPool) {
    let app = TestApp::new(admin);
    let (_, alice) = app.person("alice@example.test").await;
    let (_, bob) = app.person("bob@example.test").await;
    app.create_org(&alice, "acme").await;

    let peek = app
        .call(Method::GET, "/api/v2/orgs/acme", Some(&bob), None)
        .await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND);
    let again = app
        .call(
            Method::POST,
            "/api/v2/orgs",
            Some(&bob),
            Some(json!({ "slug": "acme", "name": "Mine" })),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    let bad = app
        .call(
            Method::POST,
            "/api/v2/orgs",
            Some(&bob),
            Some(json!({ "slug": "Not A Slug", "name": "x" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = app.call(Method::GET, "/api/v2/orgs/acme", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_viewer_reads_the_organization_and_a_removed_member_no_longer_does(admin: PgPool) {
    let app = TestApp::new(admin);
    let (_, alice) = app.person("alice@example.test").await;
    let (bob_id, bob) = app.person("bob@example.test").await;
    app.create_org(&alice, "acme").await;
    app.add_member("acme", bob_id, "viewer").await;

    let seen = app
        .call(Method::GET, "/api/v2/orgs/acme", Some(&bob), None)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    // The role is read on every request (J6): removal takes effect at once, token or not.
    sqlx::query("delete from app.memberships where account_id = $1")
        .bind(bob_id)
        .execute(&app.admin)
        .await
        .unwrap();
    let gone = app
        .call(Method::GET, "/api/v2/orgs/acme", Some(&bob), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_malformed_body_or_path_is_answered_in_the_one_problem_shape(admin: PgPool) {
    use tower::ServiceExt as _;
    let app = TestApp::new(admin);
    let (_, token) = app.person("alice@example.test").await;
    app.create_org(&token, "acme").await;
    let service = dashboard_api::router(app.state.clone());
    let send = |method: &str, path: &str, content_type: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    let cases = [
        (
            send("POST", "/api/v2/orgs", "application/json", "{not json"),
            400,
            "JSON",
        ),
        (
            send(
                "POST",
                "/api/v2/orgs",
                "application/json",
                r#"{"name":"x"}"#,
            ),
            422,
            "slug",
        ),
        (
            send("POST", "/api/v2/orgs", "text/plain", "slug=x"),
            415,
            "application/json",
        ),
        (
            send(
                "DELETE",
                "/api/v2/orgs/acme/members/not-a-uuid",
                "application/json",
                "",
            ),
            400,
            "UUID",
        ),
    ];
    for (request, status, says) in cases {
        let response = service.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_statement_that_opens_an_organization_request_keeps_one_plan(admin: PgPool) {
    // `authorize`'s opening statement (auth::context::ENTER_AS_MEMBER), prepared as sqlx prepares
    // it. With the function's default estimate of 1,000 rows PostgreSQL planned it again on every
    // request (issue 13); after the five custom plans of its plan cache it must run generic.
    let mut conn = admin.acquire().await.unwrap();
    sqlx::raw_sql(
        "prepare enter(text, uuid) as
           select set_config('app.tenant_id', m.tenant_id::text, true),
                  set_config('app.account_id', $2::text, true),
                  m.tenant_id, m.role, m.require_mfa, m.tokens_valid_after, m.disabled
           from lookup.membership($1, $2) m",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    for _ in 0..6 {
        sqlx::raw_sql("execute enter('acme', '00000000-0000-0000-0000-000000000001')")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let plan: Vec<String> = sqlx::query_scalar(
        "explain (verbose) execute enter('acme', '00000000-0000-0000-0000-000000000001')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(
        plan.iter()
            .any(|line| line.contains("lookup.membership($1, $2)")),
        "a custom plan, made again on every request: {plan:#?}"
    );
}
