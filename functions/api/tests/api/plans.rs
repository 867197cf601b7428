//! The plan: every member reads its limits and usage; an invitation beyond the member limit is
//! refused with the numbers, and so is accepting one once the organization is full. (The
//! repository limit is tested with repositories, the project limit with the scanner.)

use dashboard_api::testing::SmtpSink;
use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    invitations::{accept, app_mailing_to, invite},
    team::{Team, signed_in},
};

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn every_member_reads_the_plan_its_limits_and_its_usage(admin: PgPool) {
    let app = crate::support::TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    sqlx::query(
        "insert into app.repositories (tenant_id, provider, full_name, clone_url)
         values ($1, 'git', 'acme/app', 'https://git.example.test/acme/app.git')",
    )
    .bind(team.tenant)
    .execute(&app.admin)
    .await
    .unwrap();

    let plan = team
        .call(&app, &team.viewer, Method::GET, "/plan", None)
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{plan:?}");
    assert_eq!(
        plan.json,
        json!({
            "plan": "pro",
            "limits": { "repositories": 25, "projects": 500, "members": 25 },
            "usage": { "repositories": 1, "projects": 0, "members": 5 },
        })
    );
    let org = team.call(&app, &team.viewer, Method::GET, "", None).await;
    assert_eq!(org.json["plan"], "pro");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_invitation_beyond_the_member_limit_is_refused_with_the_numbers(admin: PgPool) {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_mailing_to(admin, &sink);
    let team = Team::new(&app, "acme").await;
    // Five members: room for one more.
    sqlx::query("update app.tenants set max_users = 6 where id = $1")
        .bind(team.tenant)
        .execute(&app.admin)
        .await
        .unwrap();
    let token = invite(&app, &sink, &team, "bob@example.test", "member").await;

    let full = team
        .call(
            &app,
            &team.owner,
            Method::POST,
            "/invitations",
            Some(json!({ "email": "carol@example.test", "role": "viewer" })),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{full:?}");
    assert_eq!(
        full.json["detail"],
        "plan limit reached: the pro plan allows 6 members (max_users) and 6 are members or invited"
    );

    // The plan shrinks before Bob accepts: his seat is gone too.
    sqlx::query("update app.tenants set max_users = 5 where id = $1")
        .bind(team.tenant)
        .execute(&app.admin)
        .await
        .unwrap();
    let bob = signed_in(&app, "bob@example.test").await;
    let refused = accept(&app, &bob.token, &token).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(
        refused.json["detail"],
        "plan limit reached: the pro plan allows 5 members (max_users) and 6 are members or invited"
    );
    assert_eq!(team.role_of(&app, bob.id).await, None);

    sqlx::query("update app.tenants set max_users = 6 where id = $1")
        .bind(team.tenant)
        .execute(&app.admin)
        .await
        .unwrap();
    let joined = accept(&app, &bob.token, &token).await;
    assert_eq!(joined.status, StatusCode::OK, "{joined:?}");
    assert_eq!(team.role_of(&app, bob.id).await.as_deref(), Some("member"));
}
