//! Organization settings (name by admins, the MFA policy by owners), deletion (owners, recent
//! sign-in) and the audit log's pages.

use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    support::TestApp,
    team::{Team, proven_minutes_ago, with_second_factor},
};

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_admin_renames_but_only_an_owner_with_mfa_requires_mfa(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let patch = |who, body| team.call(&app, who, Method::PATCH, "", Some(body));

    let renamed = patch(&team.admin, json!({ "name": " Acme Inc. " })).await;
    let admin_policy = patch(&team.admin, json!({ "require_mfa": true })).await;
    let owner_without = patch(&team.owner, json!({ "require_mfa": true })).await;
    let empty = patch(&team.owner, json!({})).await;
    let too_long = patch(&team.admin, json!({ "name": "x".repeat(201) })).await;

    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    assert_eq!(renamed.json["name"], "Acme Inc.");
    assert_eq!(
        admin_policy.status,
        StatusCode::FORBIDDEN,
        "{admin_policy:?}"
    );
    assert_eq!(
        owner_without.status,
        StatusCode::CONFLICT,
        "{owner_without:?}"
    );
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);

    let owner = with_second_factor(&app, &team.owner).await;
    let required = patch(&owner, json!({ "require_mfa": true })).await;
    assert_eq!(required.status, StatusCode::OK, "{required:?}");
    assert_eq!(required.json["require_mfa"], true);
    let member = team.call(&app, &team.member, Method::GET, "", None).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN, "{member:?}");
    let event = &team
        .call(&app, &owner, Method::GET, "/audit-log", None)
        .await
        .json["events"][0];
    assert_eq!(event["action"], "organization.updated");
    assert_eq!(
        event["details"]["require_mfa"],
        json!({ "from": false, "to": true })
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn deleting_an_organization_needs_its_owner_signed_in_recently(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    team.api_token(&app, &team.member, "member").await;

    let stale = proven_minutes_ago(&app, &team.owner, 11).await;
    let refused = team.call(&app, &stale, Method::DELETE, "", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("reauthenticate")
    );
    let by_admin = team.call(&app, &team.admin, Method::DELETE, "", None).await;
    assert_eq!(by_admin.status, StatusCode::FORBIDDEN);

    let deleted = team.call(&app, &team.owner, Method::DELETE, "", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let gone = team.call(&app, &team.owner, Method::GET, "", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let left: (i64, i64) = sqlx::query_as(
        "select (select count(*) from app.tenants), (select count(*) from app.memberships)",
    )
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(
        left,
        (1, 5),
        "only the other organization and its members remain"
    );
    let still = other.call(&app, &other.viewer, Method::GET, "", None).await;
    assert_eq!(still.status, StatusCode::OK);
    // The audit log went with it; the deletion itself is kept outside the tenant.
    let kept: (String, uuid::Uuid) = sqlx::query_as(
        "select slug, deleted_by from app.organization_deletions where organization_id = $1",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(kept, ("acme".to_owned(), team.owner.id));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_audit_log_pages_newest_first_without_gaps_or_repeats(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    for n in 0..5 {
        let renamed = team
            .call(
                &app,
                &team.admin,
                Method::PATCH,
                "",
                Some(json!({ "name": format!("Acme {n}") })),
            )
            .await;
        assert_eq!(renamed.status, StatusCode::OK);
    }
    let expected = team.audit_actions(&app).await;
    assert_eq!(expected.len(), 6, "created, then renamed five times");

    let mut seen = Vec::new();
    let mut query = "?limit=4".to_owned();
    loop {
        let page = team
            .call(
                &app,
                &team.admin,
                Method::GET,
                format!("/audit-log{query}"),
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        for event in page.json["events"].as_array().unwrap() {
            seen.push((
                event["id"].as_str().unwrap().to_owned(),
                event["action"].clone(),
            ));
        }
        match page.json["next_before"].as_str() {
            Some(cursor) => query = format!("?limit=4&before={cursor}"),
            None => break,
        }
        assert!(seen.len() <= 8, "the pages end");
    }
    let actions: Vec<_> = seen
        .iter()
        .map(|(_, action)| action.as_str().unwrap())
        .collect();
    assert_eq!(actions, expected);
    assert_eq!(actions.last(), Some(&"organization.created"));
    let mut ids: Vec<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);

    for bad in ["?limit=0", "?limit=201", "?before=yesterday"] {
        let reply = team
            .call(
                &app,
                &team.admin,
                Method::GET,
                format!("/audit-log{bad}"),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {reply:?}"
        );
    }
}
