//! Keys: `tenant_id` leads every tenant-owned primary key and every foreign key between tenant-owned
//! tables, so a row can never point into another tenant (foreign-key checks bypass row-level
//! security, so only the key itself can stop it).

use sqlx::{AssertSqlSafe, PgPool};

use crate::{catalog::tenant_tables, seed::seed_tenant};

/// Unique constraints that are global on purpose: lookups by a secret's hash, which no tenant can
/// guess and which must find the row before the tenant is known; and GitHub's own ids that belong to
/// one tenant at most (an App installation, a repository hook), so that a delivery has one owner.
const GLOBAL_UNIQUE: [&str; 4] = [
    "api_tokens_token_hash_key",
    "invitations_token_hash_key",
    "installations_installation_id_key",
    "repositories_webhook_hook_id_key",
];

/// A primary key, unique constraint or foreign key of a table in schema `app`.
#[derive(Debug, sqlx::FromRow)]
struct Key {
    table: String,
    name: String,
    /// `p`, `u` or `f`, as in `pg_constraint.contype`.
    kind: String,
    /// The referenced table of a foreign key.
    target: Option<String>,
    columns: Vec<String>,
    target_columns: Vec<String>,
}

async fn keys(admin: &PgPool) -> Vec<Key> {
    sqlx::query_as(
        "select c.relname::text as table, k.conname::text as name, k.contype::text as kind,
                f.relname::text as target,
                array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i)
                      join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as columns,
                coalesce(array(select a.attname::text from unnest(k.confkey) with ordinality u(n, i)
                      join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i), '{}')
                  as target_columns
         from pg_constraint k join pg_class c on c.oid = k.conrelid
         left join pg_class f on f.oid = k.confrelid
         where c.relnamespace = 'app'::regnamespace and k.contype in ('p', 'u', 'f')
         order by 1, 2",
    )
    .fetch_all(admin)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn tenant_id_leads_every_key_of_a_tenant_table(admin: PgPool) {
    let tenant_tables = tenant_tables(&admin).await;
    let mut checked = 0;
    for key in keys(&admin).await {
        let Key {
            table,
            name,
            kind,
            target,
            columns,
            target_columns,
        } = &key;
        if !tenant_tables.contains(table) {
            continue;
        }
        checked += 1;
        match kind.as_str() {
            "p" => assert_eq!(
                columns[0], "tenant_id",
                "{table}: primary key {name} must lead with tenant_id"
            ),
            "u" if GLOBAL_UNIQUE.contains(&name.as_str()) => {}
            "u" => assert_eq!(
                columns[0], "tenant_id",
                "{table}: unique {name} must lead with tenant_id"
            ),
            _ => {
                let target = target.as_deref().unwrap();
                if target == "tenants" {
                    assert_eq!(columns, &["tenant_id"], "{table}: {name}");
                } else if tenant_tables.iter().any(|t| t == target) {
                    assert_eq!(
                        columns[0], "tenant_id",
                        "{table}: foreign key {name} must lead with tenant_id"
                    );
                    assert_eq!(
                        target_columns[0], "tenant_id",
                        "{table}: {name} must reference tenant_id"
                    );
                } else {
                    // Only references to a person (accounts) may leave the tenant.
                    assert_eq!(target, "accounts", "{table}: {name} references {target}");
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} keys checked");
    eprintln!("isolation: {checked} keys of tenant tables lead with tenant_id");
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn composite_foreign_keys_reject_every_cross_tenant_reference(admin: PgPool) {
    let a = seed_tenant(&admin, "tenant-a").await;
    let b = seed_tenant(&admin, "tenant-b").await;
    let fks: Vec<Key> = keys(&admin)
        .await
        .into_iter()
        .filter(|k| k.kind == "f" && k.columns.len() > 1)
        .collect();
    assert!(
        fks.len() >= 12,
        "found only {} composite foreign keys",
        fks.len()
    );
    for Key {
        table: child,
        columns: child_cols,
        target,
        target_columns: parent_cols,
        ..
    } in &fks
    {
        let parent = target.as_deref().unwrap();
        // Point one of A's rows at B's parent row, as the superuser (no RLS): only the key can refuse.
        let set = child_cols[1..].join(", ");
        let from = parent_cols[1..].join(", ");
        let sql = format!(
            "update app.{child} set ({set}) = (select {from} from app.{parent} where tenant_id = $2 limit 1)
             where ctid = (select ctid from app.{child} where tenant_id = $1 and ({set}) is not null limit 1)"
        );
        let mut tx = admin.begin().await.unwrap();
        let result = sqlx::query(AssertSqlSafe(sql))
            .bind(a.tenant)
            .bind(b.tenant)
            .execute(&mut *tx)
            .await;
        let error = result.expect_err(&format!("{child}.({set}) accepted tenant B's {parent}"));
        let code = crate::sqlstate(&error);
        assert_eq!(
            code.as_deref(),
            Some("23503"),
            "{child}.({set}) -> {parent}: {error}"
        );
    }
    eprintln!(
        "isolation: {} composite foreign keys refused a cross-tenant reference",
        fks.len()
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn a_hook_id_or_an_installation_id_belongs_to_one_tenant_at_most(admin: PgPool) {
    let a = seed_tenant(&admin, "tenant-a").await;
    let b = seed_tenant(&admin, "tenant-b").await;
    let set_hook = |tenant: dashboard_shared::TenantId| {
        sqlx::query("update app.repositories set webhook_hook_id = 555 where tenant_id = $1")
            .bind(tenant)
            .execute(&admin)
    };
    set_hook(a.tenant).await.unwrap();
    let error = set_hook(b.tenant).await.unwrap_err();
    assert_eq!(crate::sqlstate(&error).as_deref(), Some("23505"), "{error}");

    let error =
        sqlx::query("insert into app.installations (tenant_id, installation_id) values ($1, $2)")
            .bind(b.tenant)
            .bind(crate::seed::installation_of("tenant-a"))
            .execute(&admin)
            .await
            .unwrap_err();
    assert_eq!(crate::sqlstate(&error).as_deref(), Some("23505"), "{error}");
}
