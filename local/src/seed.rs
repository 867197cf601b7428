//! The demo organizations of the original plan, created idempotently by `dashboard up`.

use dashboard_shared::domain::Plan;
use sqlx::PgPool;
use uuid::Uuid;

/// Slug, name and plan of each demo tenant.
pub const DEMO_TENANTS: [(&str, &str, Plan); 3] = [
    ("coditect-ai", "CODITECT AI", Plan::Enterprise),
    ("find-me-a-mechanic", "Find Me A Mechanic", Plan::Pro),
    ("hookup-app", "Hookup App", Plan::Free),
];

/// A seeded tenant as the start-up log shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct SeededTenant {
    /// The tenant's id.
    pub id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its plan tier.
    pub plan: String,
}

/// Creates the demo tenants that do not exist yet (an administrative role: tenants are provisioned,
/// not created by the runtime role) and returns all three.
pub async fn seed_demo_tenants(admin: &PgPool) -> Result<Vec<SeededTenant>, sqlx::Error> {
    let slugs: Vec<&str> = DEMO_TENANTS.iter().map(|t| t.0).collect();
    let names: Vec<&str> = DEMO_TENANTS.iter().map(|t| t.1).collect();
    let plans: Vec<&str> = DEMO_TENANTS.iter().map(|t| t.2.as_str()).collect();
    let limits: Vec<_> = DEMO_TENANTS.iter().map(|t| t.2.default_limits()).collect();
    let users: Vec<i64> = limits.iter().map(|l| l.members).collect();
    let repositories: Vec<i64> = limits.iter().map(|l| l.repositories).collect();
    let projects: Vec<i64> = limits.iter().map(|l| l.projects).collect();
    sqlx::query(
        "insert into app.tenants (slug, name, subdomain, plan, max_users, max_repositories, max_projects)
         select slug, name, slug, plan, max_users, max_repositories, max_projects
         from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[])
           as t (slug, name, plan, max_users, max_repositories, max_projects)
         on conflict (slug) do nothing",
    )
    .bind(&slugs)
    .bind(&names)
    .bind(&plans)
    .bind(&users)
    .bind(&repositories)
    .bind(&projects)
    .execute(admin)
    .await?;
    sqlx::query_as("select id, slug, plan from app.tenants where slug = any($1) order by slug")
        .bind(&slugs)
        .fetch_all(admin)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
    async fn seeding_twice_keeps_the_same_three_tenants(admin: PgPool) {
        let first = seed_demo_tenants(&admin).await.unwrap();
        let second = seed_demo_tenants(&admin).await.unwrap();
        let slugs: Vec<&str> = second.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["coditect-ai", "find-me-a-mechanic", "hookup-app"]);
        let ids = |tenants: &[SeededTenant]| tenants.iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&second));
        let count: i64 = sqlx::query_scalar("select count(*) from app.tenants")
            .fetch_one(&admin)
            .await
            .unwrap();
        assert_eq!(count, 3);
    }
}
