//! Dead jobs through the API: admins list them newest first in cursor pages and replay one; a job
//! whose work is queued again already is not replayed twice; another organization's are 404.

use http::{Method, StatusCode, header};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{support::TestApp, team::Team};

/// A dead job of `team` that died `minutes_ago`, with `dedup_key`; its id.
async fn dead_job(app: &TestApp, team: &Team, minutes_ago: i32, dedup_key: Option<&str>) -> Uuid {
    sqlx::query_scalar(
        "insert into app.jobs (tenant_id, queue, kind, payload, dedup_key, status, attempts,
                               last_error, updated_at)
         values ($1, 'scan', 'poll_repository',
                 jsonb_build_object('repository', gen_random_uuid()::text), $3, 'dead', 5,
                 'cannot resolve git.example.test', now() - make_interval(mins => $2))
         returning id",
    )
    .bind(team.tenant)
    .bind(minutes_ago)
    .bind(dedup_key)
    .fetch_one(&app.admin)
    .await
    .unwrap()
}

fn ids(reply: &crate::support::Reply) -> Vec<Uuid> {
    reply
        .json
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|job| job["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn admins_list_dead_jobs_newest_first_and_replay_one(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let old = dead_job(&app, &team, 30, None).await;
    let newer = dead_job(&app, &team, 20, None).await;
    let newest = dead_job(&app, &team, 10, None).await;

    let first = team
        .call(&app, &team.admin, Method::GET, "/jobs/dead?limit=2", None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(ids(&first), [newest, newer]);
    let job = &first.json[0];
    assert_eq!(job["kind"], "poll_repository");
    assert_eq!(job["queue"], "scan");
    assert_eq!(job["attempts"], 5);
    assert_eq!(job["last_error"], "cannot resolve git.example.test");
    assert_eq!(job["repository_id"], job["payload"]["repository"]);
    let link = first.headers[header::LINK].to_str().unwrap();
    let next = link.strip_prefix('<').unwrap().split_once('>').unwrap().0;
    let second = app
        .call(Method::GET, next, Some(&team.admin.token), None)
        .await;
    assert_eq!(ids(&second), [old]);

    let replayed = team
        .call(
            &app,
            &team.admin,
            Method::POST,
            format!("/jobs/{newer}/replay"),
            None,
        )
        .await;
    assert_eq!(replayed.status, StatusCode::ACCEPTED, "{replayed:?}");
    assert_eq!(replayed.json["id"], newer.to_string());
    let (status, attempts): (String, i32) =
        sqlx::query_as("select status, attempts from app.jobs where id = $1")
            .bind(newer)
            .fetch_one(&app.admin)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 0));
    let left = team
        .call(&app, &team.admin, Method::GET, "/jobs/dead", None)
        .await;
    assert_eq!(ids(&left), [newest, old]);
    assert_eq!(team.audit_actions(&app).await[0], "job.replayed");
    let again = team
        .call(
            &app,
            &team.admin,
            Method::POST,
            format!("/jobs/{newer}/replay"),
            None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "only dead jobs are replayed"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_dead_job_whose_work_is_queued_again_is_not_replayed(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let key = Uuid::new_v4().to_string();
    let dead = dead_job(&app, &team, 5, Some(&key)).await;
    sqlx::query(
        "insert into app.jobs (tenant_id, queue, kind, payload, dedup_key)
         values ($1, 'scan', 'poll_repository', jsonb_build_object('repository', $2::text), $2)",
    )
    .bind(team.tenant)
    .bind(&key)
    .execute(&app.admin)
    .await
    .unwrap();

    let refused = team
        .call(
            &app,
            &team.owner,
            Method::POST,
            format!("/jobs/{dead}/replay"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(
        refused.json["detail"],
        "the same work is queued already: this dead job stays as it is"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_dead_jobs_are_neither_listed_nor_replayed(admin: PgPool) {
    let app = TestApp::new(admin);
    let acme = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let theirs = dead_job(&app, &acme, 1, None).await;

    let listed = other
        .call(&app, &other.admin, Method::GET, "/jobs/dead", None)
        .await;
    assert_eq!(listed.json, Value::Array(Vec::new()));
    let replay = other
        .call(
            &app,
            &other.admin,
            Method::POST,
            format!("/jobs/{theirs}/replay"),
            None,
        )
        .await;
    assert_eq!(replay.status, StatusCode::NOT_FOUND);
    let status: String = sqlx::query_scalar("select status from app.jobs where id = $1")
        .bind(theirs)
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(status, "dead");
}
