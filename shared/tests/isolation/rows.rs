//! Rows: as the runtime role with tenant A set, every tenant-owned table shows only A's rows, and
//! B's rows can be neither changed, deleted nor created; with no tenant set nothing is visible; a
//! tenant setting ends with its transaction.

use dashboard_shared::{Db, TenantId, testing};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::{
    catalog::{ACCOUNT_TABLES, insertable_columns, tenant_tables},
    seed::{Seeded, seed_tenant},
};

async fn seeded(admin: &PgPool) -> (Db, Seeded, Seeded) {
    let a = seed_tenant(admin, "tenant-a").await;
    let b = seed_tenant(admin, "tenant-b").await;
    (testing::runtime_db(admin), a, b)
}

/// A digest of everything tenant `tenant` has in `table`, read by the superuser.
async fn fingerprint(admin: &PgPool, table: &str, tenant: TenantId) -> (i64, String) {
    let sql = format!(
        "select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
         from app.{table} t where tenant_id = $1"
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(tenant)
        .fetch_one(admin)
        .await
        .unwrap()
}

/// The SQLSTATE of a failed result (or the error's text when it is not a database error).
fn sqlstate(result: Result<impl Sized, sqlx::Error>) -> Option<String> {
    let error = result.err()?;
    Some(crate::sqlstate(&error).unwrap_or_else(|| error.to_string()))
}

/// Rows changed by `sql` in a tenant transaction that is then rolled back, or the SQLSTATE.
async fn affected(db: &Db, tenant: TenantId, sql: &str, bind: TenantId) -> Result<u64, String> {
    let mut tx = db.tenant(tenant).await.unwrap();
    let conn: &mut PgConnection = &mut tx;
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| sqlstate(Err::<(), _>(e)).unwrap())
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn each_tenant_sees_and_changes_only_its_own_rows(admin: PgPool) {
    let (db, a, b) = seeded(&admin).await;
    let tables = tenant_tables(&admin).await;
    let mut assertions = 0;
    for table in &tables {
        let before = fingerprint(&admin, table, b.tenant).await;
        assert!(
            before.0 > 0,
            "{table}: the seed gave tenant B no rows; seed every tenant table"
        );

        // Reads: A's rows are there, B's are not.
        let mut tx = db.tenant(a.tenant).await.unwrap();
        let (visible, foreign): (i64, i64) = sqlx::query_as(AssertSqlSafe(format!(
            "select count(*), count(*) filter (where tenant_id <> $1) from app.{table}"
        )))
        .bind(a.tenant)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert!(visible > 0, "{table}: tenant A cannot see its own rows");
        assert_eq!(
            foreign, 0,
            "{table}: tenant A sees {foreign} rows of another tenant"
        );
        let own_row: serde_json::Value = sqlx::query_scalar(AssertSqlSafe(format!(
            "select to_jsonb(t) from app.{table} t limit 1"
        )))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        drop(tx);

        // Writes aimed at B: no row touched (or, for append-only tables, no permission at all).
        let update = affected(
            &db,
            a.tenant,
            &format!("update app.{table} set tenant_id = tenant_id where tenant_id = $1"),
            b.tenant,
        )
        .await;
        assert!(
            matches!(
                update.as_ref().map_err(String::as_str),
                Ok(0) | Err("42501")
            ),
            "{table}: update of B's rows: {update:?}"
        );
        let delete = affected(
            &db,
            a.tenant,
            &format!("delete from app.{table} where tenant_id = $1"),
            b.tenant,
        )
        .await;
        assert!(
            matches!(
                delete.as_ref().map_err(String::as_str),
                Ok(0) | Err("42501")
            ),
            "{table}: delete of B's rows: {delete:?}"
        );

        // Moving A's own row to B, or inserting a row for B, violates the policy.
        let hand_over = affected(
            &db,
            a.tenant,
            &format!("update app.{table} set tenant_id = $1"),
            b.tenant,
        )
        .await;
        assert_eq!(
            hand_over,
            Err("42501".into()),
            "{table}: A moved a row to B"
        );
        let columns = insertable_columns(&admin, table).await.join(", ");
        let mut foreign_row = own_row;
        foreign_row["tenant_id"] = serde_json::json!(b.tenant);
        let mut tx = db.tenant(a.tenant).await.unwrap();
        let insert = sqlx::query(AssertSqlSafe(format!(
            "insert into app.{table} ({columns}) select {columns} from jsonb_populate_record(null::app.{table}, $1)"
        )))
        .bind(&foreign_row)
        .execute(&mut *tx)
        .await;
        assert_eq!(
            sqlstate(insert).as_deref(),
            Some("42501"),
            "{table}: A inserted a row for B"
        );
        drop(tx);

        assert_eq!(
            fingerprint(&admin, table, b.tenant).await,
            before,
            "{table}: B's rows changed"
        );
        assertions += 8;
    }
    eprintln!(
        "isolation: {assertions} row assertions over {} tenant tables",
        tables.len()
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn a_tenant_sees_and_edits_only_its_own_tenant_row(admin: PgPool) {
    let (db, a, b) = seeded(&admin).await;
    let mut tx = db.tenant(a.tenant).await.unwrap();
    let ids: Vec<TenantId> = sqlx::query_scalar("select id from app.tenants")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(ids, [a.tenant]);
    drop(tx);
    let rename = affected(
        &db,
        a.tenant,
        "update app.tenants set name = 'pwned' where id = $1",
        b.tenant,
    )
    .await;
    assert_eq!(rename, Ok(0));
    let delete = affected(
        &db,
        a.tenant,
        "delete from app.tenants where id = $1",
        b.tenant,
    )
    .await;
    assert_eq!(delete, Ok(0), "a tenant deleted another tenant");
    let create = affected(
        &db,
        a.tenant,
        "insert into app.tenants (id, slug, name) values ($1, 'x-corp', 'X')",
        b.tenant,
    )
    .await;
    assert_eq!(
        create,
        Err("42501".into()),
        "a tenant created a tenant other than the one its transaction is bound to"
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn without_a_tenant_every_tenant_table_fails_with_one_clear_error(admin: PgPool) {
    let (db, a, _) = seeded(&admin).await;
    let tables = tenant_tables(&admin).await;
    let mut conn = db.without_tenant().await.unwrap();
    // Once on a fresh connection (setting absent), once after a committed tenant transaction on the
    // same connection (setting present but empty): both must fail the same way.
    for round in ["fresh connection", "after a tenant transaction"] {
        for table in tables.iter().map(String::as_str).chain(["tenants"]) {
            let error = sqlx::query(AssertSqlSafe(format!("select * from app.{table}")))
                .fetch_all(&mut *conn)
                .await
                .expect_err(&format!("{table}: readable without a tenant ({round})"));
            let db_error = error.as_database_error().unwrap();
            assert_eq!(
                db_error.code().as_deref(),
                Some("42501"),
                "{table} ({round})"
            );
            assert_eq!(
                db_error.message(),
                "tenant context not set (app.tenant_id)",
                "{table} ({round})"
            );
        }
        sqlx::query("begin").execute(&mut *conn).await.unwrap();
        sqlx::query("select set_config('app.tenant_id', $1, true)")
            .bind(a.tenant.to_string())
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("select count(*) from app.projects")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("commit").execute(&mut *conn).await.unwrap();
    }
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn a_tenant_setting_is_gone_in_the_next_transaction_on_the_same_connection(admin: PgPool) {
    let a = seed_tenant(&admin, "tenant-a").await;
    // One connection, so the second checkout is certainly the same session.
    let db = Db::connect_lazy_with(testing::runtime_options(&admin), 1);
    let mut tx = db.tenant(a.tenant).await.unwrap();
    let seen: i64 = sqlx::query_scalar("select count(*) from app.projects")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen, 2);
    tx.commit().await.unwrap();

    let mut conn = db.without_tenant().await.unwrap();
    let setting: Option<String> =
        sqlx::query_scalar("select current_setting('app.tenant_id', true)")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        setting.as_deref(),
        Some(""),
        "the tenant leaked into the next checkout"
    );
    let leaked = sqlx::query("select * from app.projects")
        .fetch_all(&mut *conn)
        .await;
    assert_eq!(sqlstate(leaked).as_deref(), Some("42501"));
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn a_person_sees_only_their_own_account_rows(admin: PgPool) {
    let (db, a, b) = seeded(&admin).await;
    let mut conn = db.without_tenant().await.unwrap();
    for table in ACCOUNT_TABLES {
        let unset: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from app.{table}")))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert_eq!(unset, 0, "{table}: visible with no account set");
    }
    sqlx::query("begin").execute(&mut *conn).await.unwrap();
    sqlx::query("select set_config('app.account_id', $1, true)")
        .bind(a.account.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    for table in ACCOUNT_TABLES {
        let key = if table == "accounts" {
            "id"
        } else {
            "account_id"
        };
        let (mine, others): (i64, i64) = sqlx::query_as(AssertSqlSafe(format!(
            "select count(*) filter (where {key} = $1), count(*) filter (where {key} <> $1) from app.{table}"
        )))
        .bind(a.account)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!((mine, others), (1, 0), "{table}");
    }
    let touched = sqlx::query("update app.accounts set display_name = 'pwned' where id = $1")
        .bind(b.account)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(touched.rows_affected(), 0);
    sqlx::query("rollback").execute(&mut *conn).await.unwrap();
}
