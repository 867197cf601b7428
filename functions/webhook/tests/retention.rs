//! `dashboard-webhook purge` against real PostgreSQL, as the runtime role, over two tenants' rows
//! backdated in the database: what is past its retention goes, the rest stays.

use dashboard_shared::{TenantId, testing};
use dashboard_webhook::{Retention, purge::purge};
use sqlx::PgPool;
use uuid::Uuid;

/// A delivery received `days` ago; returns its id.
async fn delivery(admin: &PgPool, tenant: TenantId, name: &str, days: i32) -> Uuid {
    sqlx::query_scalar(
        "insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body, status, received_at)
         values ($1, 0, $2, 'push', '{}', 'processed', now() - make_interval(days => $3)) returning id",
    )
    .bind(tenant)
    .bind(name)
    .bind(days)
    .fetch_one(admin)
    .await
    .unwrap()
}

/// A job last changed `days` ago, named `kind` (the tests' label) with `dedup_key`.
async fn job(
    admin: &PgPool,
    tenant: TenantId,
    kind: &str,
    status: &str,
    days: i32,
    dedup_key: Option<String>,
) {
    sqlx::query(
        "insert into app.jobs (tenant_id, queue, kind, status, dedup_key, updated_at)
         values ($1, 'link', $2, $3, $4, now() - make_interval(days => $5))",
    )
    .bind(tenant)
    .bind(kind)
    .bind(status)
    .bind(dedup_key)
    .bind(days)
    .execute(admin)
    .await
    .unwrap();
}

/// An unrouted delivery of `installation` (or only of `repository`) received `minutes` ago.
async fn unrouted(
    admin: &PgPool,
    name: &str,
    installation: Option<i64>,
    repository: Option<i64>,
    minutes: i32,
) {
    sqlx::query(
        "insert into app.unrouted_deliveries (hook_id, delivery_id, event, installation_id, provider_repo_id, body, received_at)
         values (0, $1, 'push', $2, $3, '{}', now() - make_interval(mins => $4))",
    )
    .bind(name)
    .bind(installation)
    .bind(repository)
    .bind(minutes)
    .execute(admin)
    .await
    .unwrap();
}

async fn names(admin: &PgPool, sql: &'static str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(admin).await.unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn what_is_past_its_retention_is_purged_across_tenants_and_the_rest_kept(admin: PgPool) {
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let b = testing::create_tenant(&admin, "tenant-b").await;
    for tenant in [a, b] {
        job(&admin, tenant, "done-old", "done", 31, None).await;
        job(&admin, tenant, "done-recent", "done", 29, None).await;
        job(&admin, tenant, "dead-old", "dead", 31, None).await;
        job(&admin, tenant, "dead-recent", "dead", 10, None).await;
        // Replayed: queued again, however old it was.
        job(&admin, tenant, "replayed", "queued", 40, None).await;
    }
    delivery(&admin, a, "old", 31).await;
    delivery(&admin, b, "recent", 29).await;
    // An old delivery whose job died recently stays while the job may be replayed; one whose job is
    // done goes.
    let needed = delivery(&admin, a, "old-with-a-dead-job", 31).await;
    job(
        &admin,
        a,
        "dead-reads-delivery",
        "dead",
        10,
        Some(needed.to_string()),
    )
    .await;
    let finished = delivery(&admin, b, "old-with-a-done-job", 31).await;
    job(
        &admin,
        b,
        "done-read-delivery",
        "done",
        29,
        Some(finished.to_string()),
    )
    .await;
    for minute in 0..5 {
        unrouted(
            &admin,
            &format!("installation-1-{minute}"),
            Some(1),
            Some(10),
            minute,
        )
        .await;
    }
    unrouted(
        &admin,
        "installation-2-old",
        Some(2),
        Some(20),
        31 * 24 * 60,
    )
    .await;
    unrouted(&admin, "installation-2-new", Some(2), Some(20), 0).await;
    for minute in 0..4 {
        unrouted(
            &admin,
            &format!("repository-30-{minute}"),
            None,
            Some(30),
            minute,
        )
        .await;
    }

    let db = testing::runtime_db(&admin);
    let retention = Retention {
        days: 30,
        dead_job_days: 30,
        unrouted_kept: 3,
    };
    let purged = purge(&db, &retention).await.unwrap();

    let jobs = names(&admin, "select distinct kind from app.jobs order by 1").await;
    assert_eq!(
        jobs,
        [
            "dead-reads-delivery",
            "dead-recent",
            "done-read-delivery",
            "done-recent",
            "replayed"
        ]
    );
    assert_eq!(
        names(
            &admin,
            "select delivery_id from app.webhook_deliveries order by 1"
        )
        .await,
        ["old-with-a-dead-job", "recent"]
    );
    assert_eq!(
        names(
            &admin,
            "select delivery_id from app.unrouted_deliveries order by 1"
        )
        .await,
        [
            "installation-1-0",
            "installation-1-1",
            "installation-1-2",
            "installation-2-new",
            "repository-30-0",
            "repository-30-1",
            "repository-30-2",
        ],
        "the newest 3 per installation (per repository without one), none past 30 days"
    );
    assert_eq!((purged.jobs, purged.deliveries, purged.unrouted), (4, 2, 4));
    assert_eq!(
        purge(&db, &retention).await.unwrap(),
        Default::default(),
        "a second run finds nothing"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_runtime_role_deletes_nothing_it_cannot_see_but_through_the_purge(admin: PgPool) {
    let a = testing::create_tenant(&admin, "tenant-a").await;
    delivery(&admin, a, "old", 31).await;
    unrouted(&admin, "unrouted-old", Some(1), None, 31 * 24 * 60).await;
    let db = testing::runtime_db(&admin);
    let mut conn = db.without_tenant().await.unwrap();
    let denied = sqlx::query("delete from app.unrouted_deliveries")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");
    let unset = sqlx::query("delete from app.webhook_deliveries")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(
        unset.to_string().contains("tenant context not set"),
        "{unset}"
    );
    drop(conn);
    let purged = purge(&db, &Retention::default()).await.unwrap();
    assert_eq!((purged.deliveries, purged.unrouted), (1, 1));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn ended_sessions_and_expired_sign_in_steps_are_purged_and_live_ones_kept(admin: PgPool) {
    let account: Uuid = sqlx::query_scalar(
        "insert into app.accounts (email) values ('alice@example.test') returning id",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    for (hash, ends) in [("ended", "-1 hour"), ("live", "+6 days")] {
        sqlx::query(
            "insert into app.sessions (account_id, refresh_token_hash, family_id, expires_at)
             values ($1, convert_to($2, 'utf8'), gen_random_uuid(), now() + $3::interval)",
        )
        .bind(account)
        .bind(hash)
        .bind(ends)
        .execute(&admin)
        .await
        .unwrap();
        sqlx::query(
            "insert into app.email_tokens (token_hash, account_id, purpose, email, expires_at)
             values (convert_to($2, 'utf8'), $1, 'verify_email', 'alice@example.test',
                     now() + $3::interval - interval '1 day')",
        )
        .bind(account)
        .bind(hash)
        .bind(ends)
        .execute(&admin)
        .await
        .unwrap();
        sqlx::query(
            "insert into app.mfa_challenges (id, account_id, expires_at)
             values (gen_random_uuid(), $1, now() + $2::interval - interval '1 day')",
        )
        .bind(account)
        .bind(ends)
        .execute(&admin)
        .await
        .unwrap();
        sqlx::query(
            "insert into app.oauth_states (state_hash, expires_at)
             values (convert_to($1, 'utf8'), now() + $2::interval)",
        )
        .bind(hash)
        .bind(ends)
        .execute(&admin)
        .await
        .unwrap();
    }
    let db = testing::runtime_db(&admin);
    let purged = purge(&db, &Retention::default()).await.unwrap();
    assert_eq!(purged.sign_ins, 4, "one of each kind");
    let left: Vec<String> = names(
        &admin,
        "select convert_from(refresh_token_hash, 'utf8') from app.sessions
         union all select convert_from(token_hash, 'utf8') from app.email_tokens
         union all select convert_from(state_hash, 'utf8') from app.oauth_states",
    )
    .await;
    assert_eq!(left, ["live", "live", "live"]);
    let challenges: i64 = sqlx::query_scalar("select count(*) from app.mfa_challenges")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(challenges, 1);
}
