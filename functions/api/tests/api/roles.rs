//! The rules of notes/auth.md section 3, each on its own: at least one owner, only owners touch
//! owners, nobody grants above their own role, another organization's ids are not found, and
//! removing a member revokes their API tokens. Changes are audited.

use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{support::TestApp, team::Team};

fn role(role: &str) -> Option<serde_json::Value> {
    Some(json!({ "role": role }))
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_last_owner_cannot_leave_be_demoted_or_removed(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let owner = &team.owner;
    let me = format!("/members/{}", owner.id);

    let leave = team.call(&app, owner, Method::POST, "/leave", None).await;
    let demote = team
        .call(&app, owner, Method::PATCH, &me, role("admin"))
        .await;
    let remove = team.call(&app, owner, Method::DELETE, &me, None).await;

    for reply in [&leave, &demote, &remove] {
        assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
        assert!(
            reply.json["detail"]
                .as_str()
                .unwrap()
                .contains("at least one owner")
        );
    }
    assert_eq!(team.role_of(&app, owner.id).await.as_deref(), Some("owner"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_admin_cannot_promote_to_owner_nor_demote_or_remove_an_owner(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let by_admin = |method, rest: String, body| team.call(&app, &team.admin, method, rest, body);
    let owner = format!("/members/{}", team.owner.id);
    let member = format!("/members/{}", team.member.id);
    let myself = format!("/members/{}", team.admin.id);

    let promote = by_admin(Method::PATCH, member.clone(), role("owner")).await;
    let promote_self = by_admin(Method::PATCH, myself, role("owner")).await;
    let demote = by_admin(Method::PATCH, owner.clone(), role("member")).await;
    let remove = by_admin(Method::DELETE, owner, None).await;

    for reply in [&promote, &promote_self, &demote, &remove] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    }
    assert_eq!(
        team.role_of(&app, team.owner.id).await.as_deref(),
        Some("owner")
    );
    assert_eq!(
        team.role_of(&app, team.member.id).await.as_deref(),
        Some("member")
    );
    // What an admin may do: change and remove non-owners, up to admin.
    let raise = by_admin(Method::PATCH, member.clone(), role("admin")).await;
    assert_eq!(raise.status, StatusCode::NO_CONTENT, "{raise:?}");
    let drop = by_admin(Method::DELETE, member, None).await;
    assert_eq!(drop.status, StatusCode::NO_CONTENT, "{drop:?}");
    assert_eq!(team.role_of(&app, team.member.id).await, None);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_admin_cannot_invite_an_owner_and_a_member_cannot_invite(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let invite = |who, role: &str| {
        team.call(
            &app,
            who,
            Method::POST,
            "/invitations",
            Some(json!({ "email": "new@example.test", "role": role })),
        )
    };

    let owner_by_admin = invite(&team.admin, "owner").await;
    let by_member = invite(&team.member, "viewer").await;
    assert_eq!(
        owner_by_admin.status,
        StatusCode::FORBIDDEN,
        "{owner_by_admin:?}"
    );
    assert_eq!(by_member.status, StatusCode::FORBIDDEN, "{by_member:?}");

    let admin_by_admin = invite(&team.admin, "admin").await;
    assert_eq!(
        admin_by_admin.status,
        StatusCode::CREATED,
        "{admin_by_admin:?}"
    );
    // Only owners revoke an invitation to be owner.
    let owner_invitation = team.invitation(&app, "boss@example.test", "owner").await;
    let revoke = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            &format!("/invitations/{owner_invitation}"),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::FORBIDDEN, "{revoke:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_owner_can_demote_self_only_while_another_owner_remains(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let by_owner = |who, method, rest: String, body| team.call(&app, who, method, rest, body);

    let promote = by_owner(
        &team.owner,
        Method::PATCH,
        format!("/members/{}", team.admin.id),
        role("owner"),
    )
    .await;
    assert_eq!(promote.status, StatusCode::NO_CONTENT, "{promote:?}");
    let step_down = by_owner(
        &team.owner,
        Method::PATCH,
        format!("/members/{}", team.owner.id),
        role("admin"),
    )
    .await;
    assert_eq!(step_down.status, StatusCode::NO_CONTENT, "{step_down:?}");
    assert_eq!(
        team.role_of(&app, team.owner.id).await.as_deref(),
        Some("admin")
    );

    let now_alone = by_owner(
        &team.admin,
        Method::PATCH,
        format!("/members/{}", team.admin.id),
        role("admin"),
    )
    .await;
    assert_eq!(now_alone.status, StatusCode::CONFLICT, "{now_alone:?}");
    assert_eq!(
        team.role_of(&app, team.admin.id).await.as_deref(),
        Some("owner")
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn two_owners_demoting_each_other_at_once_leave_one_owner(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let promote = team
        .call(
            &app,
            &team.owner,
            Method::PATCH,
            &format!("/members/{}", team.admin.id),
            role("owner"),
        )
        .await;
    assert_eq!(promote.status, StatusCode::NO_CONTENT);

    let (first, second) = tokio::join!(
        team.call(
            &app,
            &team.owner,
            Method::PATCH,
            &format!("/members/{}", team.admin.id),
            role("admin")
        ),
        team.call(
            &app,
            &team.admin,
            Method::PATCH,
            &format!("/members/{}", team.owner.id),
            role("admin")
        ),
    );

    // Whichever locks the owner rows second finds itself demoted: no longer an owner to touch one.
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::NO_CONTENT, StatusCode::FORBIDDEN],
        "{first:?} {second:?}"
    );
    let owners: i64 = sqlx::query_scalar(
        "select count(*) from app.memberships where tenant_id = $1 and role = 'owner'",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(owners, 1);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_ids_are_not_found_never_forbidden(admin: PgPool) {
    let app = TestApp::new(admin);
    let acme = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let (token_id, _) = acme.api_token(&app, &acme.member, "member").await;
    let invitation = acme.invitation(&app, "new@example.test", "viewer").await;
    let owner = &other.owner;

    let tries = [
        (
            Method::PATCH,
            format!("/members/{}", acme.member.id),
            role("viewer"),
        ),
        (Method::DELETE, format!("/members/{}", acme.member.id), None),
        (Method::DELETE, format!("/tokens/{token_id}"), None),
        (Method::DELETE, format!("/invitations/{invitation}"), None),
    ];
    for (method, rest, body) in tries {
        let reply = other.call(&app, owner, method, &rest, body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{rest}: {reply:?}");
    }
    assert_eq!(
        acme.role_of(&app, acme.member.id).await.as_deref(),
        Some("member")
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn removing_a_member_revokes_their_api_tokens_and_is_audited(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (_, token) = team.api_token(&app, &team.member, "member").await;
    let path = team.path("/members");
    let works = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(works.status, StatusCode::OK, "{works:?}");

    let remove = team
        .call(
            &app,
            &team.owner,
            Method::DELETE,
            &format!("/members/{}", team.member.id),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT, "{remove:?}");

    let after = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{after:?}");
    let live: i64 = sqlx::query_scalar(
        "select count(*) from app.api_tokens where tenant_id = $1 and revoked_at is null",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(live, 0);
    let details: serde_json::Value = sqlx::query_scalar(
        "select details from app.audit_log where tenant_id = $1 and action = 'member.removed'",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(details, json!({ "role": "member", "tokens_revoked": 1 }));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_role_change_applies_on_the_next_request_and_is_audited(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let before = team
        .call(&app, &team.member, Method::GET, "/audit-log", None)
        .await;
    assert_eq!(before.status, StatusCode::FORBIDDEN);

    let change = team
        .call(
            &app,
            &team.owner,
            Method::PATCH,
            &format!("/members/{}", team.member.id),
            role("admin"),
        )
        .await;
    assert_eq!(change.status, StatusCode::NO_CONTENT, "{change:?}");

    let after = team
        .call(&app, &team.member, Method::GET, "/audit-log", None)
        .await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
    let newest = &after.json["events"][0];
    assert_eq!(newest["action"], "member.role_changed");
    assert_eq!(
        newest["details"],
        json!({ "from": "member", "to": "admin" })
    );
    assert_eq!(newest["actor_account_id"], team.owner.id.to_string());

    let left = team
        .call(&app, &team.viewer, Method::POST, "/leave", None)
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    assert_eq!(team.role_of(&app, team.viewer.id).await, None);
    assert_eq!(team.audit_actions(&app).await[0], "member.left");
    let members = team
        .call(&app, &team.viewer, Method::GET, "/members", None)
        .await;
    assert_eq!(members.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn members_are_listed_with_address_name_role_and_joining_date(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let _other = Team::new(&app, "other").await;

    let list = team
        .call(&app, &team.viewer, Method::GET, "/members", None)
        .await;

    assert_eq!(list.status, StatusCode::OK, "{list:?}");
    let entries = list.json.as_array().unwrap();
    assert_eq!(
        entries.len(),
        5,
        "only this organization's members: {entries:?}"
    );
    let owner = &entries[0];
    assert_eq!(owner["account_id"], team.owner.id.to_string());
    assert_eq!(owner["email"], "owner@acme.test");
    assert_eq!(owner["display_name"], "owner@acme.test");
    assert_eq!(owner["role"], "owner");
    assert!(owner["joined_at"].is_string());
}
