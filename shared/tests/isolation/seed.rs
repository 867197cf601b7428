//! Two fully populated tenants: one row (at least) in every tenant-owned table, inserted by the
//! administrative role the way provisioning and the services would. The suite checks that every
//! tenant-owned table got rows here, so a new table must be seeded to pass.

use dashboard_shared::{TenantId, testing};
use sqlx::PgPool;
use uuid::Uuid;

/// The GitHub repository id both tenants connected (a public repository two organizations track).
pub const SHARED_GITHUB_REPO_ID: i64 = 4242;

/// The GitHub App installation a seeded tenant owns (installations are owned by one tenant each).
pub fn installation_of(slug: &str) -> i64 {
    slug.bytes()
        .fold(7, |id, b| (id * 31 + i64::from(b)) % 1_000_000_007)
}

/// What the suite needs to know about a seeded tenant.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub tenant: TenantId,
    pub account: Uuid,
}

/// Creates tenant `slug` with a row in every tenant-owned table.
pub async fn seed_tenant(admin: &PgPool, slug: &str) -> Seeded {
    let tenant = testing::create_tenant(admin, slug).await;
    let account: Uuid = sqlx::query_scalar(
        "insert into app.accounts (email, display_name, password_hash) values ($1, $2, 'argon2id$fake') returning id",
    )
    .bind(format!("owner@{slug}.example"))
    .bind(format!("Owner of {slug}"))
    .fetch_one(admin)
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(seed_sql(
        tenant.as_uuid(),
        account,
        slug,
    )))
    .execute(admin)
    .await
    .expect("seeding a tenant failed");
    Seeded { tenant, account }
}

fn seed_sql(t: Uuid, account: Uuid, slug: &str) -> String {
    let [repo, project, child, task, commit, team] = [(); 6].map(|()| Uuid::new_v4());
    let installation = installation_of(slug);
    format!(
        "
        insert into app.identities (provider, subject, account_id) values ('github', '{slug}-gh', '{account}');
        insert into app.sessions (account_id, refresh_token_hash, family_id, expires_at)
          values ('{account}', decode(md5('{slug}-refresh'), 'hex'), gen_random_uuid(), now() + interval '30 days');
        insert into app.mfa_challenges (id, account_id, expires_at)
          values (gen_random_uuid(), '{account}', now() + interval '5 minutes');
        insert into app.recovery_codes (account_id, code_hash) values ('{account}', decode(md5('{slug}-code'), 'hex'));
        insert into app.email_tokens (token_hash, account_id, purpose, email, expires_at)
          values (decode(md5('{slug}-link'), 'hex'), '{account}', 'verify_email', 'owner@{slug}.example', now() + interval '1 day');
        insert into app.memberships (tenant_id, account_id, role) values ('{t}', '{account}', 'owner');
        insert into app.api_tokens (tenant_id, name, token_hash, role, created_by)
          values ('{t}', 'ci', decode(md5('{slug}-token'), 'hex'), 'member', '{account}');
        insert into app.invitations (tenant_id, email, role, token_hash, invited_by, expires_at)
          values ('{t}', 'new@{slug}.example', 'member', decode(md5('{slug}-invite'), 'hex'), '{account}', now() + interval '7 days');
        insert into app.teams (tenant_id, id, name) values ('{t}', '{team}', 'core');
        insert into app.team_members (tenant_id, team_id, account_id) values ('{t}', '{team}', '{account}');
        insert into app.installations (tenant_id, installation_id, connected_by) values ('{t}', {installation}, '{account}');
        insert into app.repositories (tenant_id, id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
          values ('{t}', '{repo}', 'github', {SHARED_GITHUB_REPO_ID}, {installation}, 'acme/shared', 'https://github.com/acme/shared.git', 'main');
        insert into app.projects (tenant_id, id, repository_id, path, type, types, name)
          values ('{t}', '{project}', '{repo}', '', 'cargo', '{{cargo}}', '{slug}-root');
        insert into app.projects (tenant_id, id, repository_id, parent_id, path, type, types, name)
          values ('{t}', '{child}', '{repo}', '{project}', 'crates/core', 'cargo', '{{cargo,tasklist}}', '{slug}-core');
        insert into app.tasks (tenant_id, id, repository_id, project_id, source, external_key, title)
          values ('{t}', '{task}', '{repo}', '{child}', 'tasklist', 'TASK-CORE-1', 'Secret plans of {slug}');
        insert into app.commits (tenant_id, id, repository_id, sha, message)
          values ('{t}', '{commit}', '{repo}', md5('{slug}') || '00000000', 'Fixes TASK-CORE-1');
        insert into app.commit_task_links (tenant_id, commit_id, task_id, method, relation, confidence, created_by)
          values ('{t}', '{commit}', '{task}', 'explicit', 'closes', 1.0, '{account}');
        insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, headers, body)
          values ('{t}', 1, gen_random_uuid()::text, 'push', '{{}}', 'payload of {slug}');
        insert into app.jobs (tenant_id, queue, kind, payload, dedup_key)
          values ('{t}', 'link', 'link_commits', '{{}}', 'push-1');
        insert into app.audit_log (tenant_id, actor_account_id, action, target_type, target_id)
          values ('{t}', '{account}', 'repository.connected', 'repository', '{repo}');
        "
    )
}
