//! A team to act in: an organization on the pro plan with one person of each role (and a spare
//! viewer to act on), each signed in, plus helpers for the things the organization tests arrange directly.

use dashboard_api::auth::session::{Proof, amr};
use dashboard_shared::{TenantId, domain::Role};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Reply, TestApp};

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub token: String,
}

/// Organization `slug` with its people.
pub struct Team {
    pub slug: String,
    pub tenant: TenantId,
    pub owner: Person,
    pub admin: Person,
    pub member: Person,
    pub viewer: Person,
    /// Another viewer, for others to act on.
    pub subject: Person,
}

impl Team {
    /// Creates `slug` through the API (its owner first), then adds the others.
    pub async fn new(app: &TestApp, slug: &str) -> Self {
        let person = |name: &str| format!("{name}@{slug}.test");
        let owner = signed_in(app, &person("owner")).await;
        app.create_org(&owner.token, slug).await;
        let mut people = Vec::new();
        for role in ["admin", "member", "viewer", "viewer"] {
            let someone = signed_in(app, &person(&format!("{role}{}", people.len()))).await;
            app.add_member(slug, someone.id, role).await;
            people.push(someone);
        }
        // On the pro plan, as provisioning would set it: room for the five and a few more.
        let tenant = sqlx::query_scalar(
            "update app.tenants set plan = 'pro', max_users = 25, max_repositories = 25,
               max_projects = 500
             where slug = $1 returning id",
        )
        .bind(slug)
        .fetch_one(&app.admin)
        .await
        .unwrap();
        let [admin, member, viewer, subject] = people.try_into().unwrap();
        Self {
            slug: slug.to_owned(),
            tenant: TenantId::from_uuid(tenant),
            owner,
            admin,
            member,
            viewer,
            subject,
        }
    }

    /// The person with `role`.
    pub fn with(&self, role: Role) -> &Person {
        match role {
            Role::Owner => &self.owner,
            Role::Admin => &self.admin,
            Role::Member => &self.member,
            Role::Viewer => &self.viewer,
        }
    }

    /// `/api/v2/orgs/{slug}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v2/orgs/{}{rest}", self.slug)
    }

    /// Calls `/api/v2/orgs/{slug}{rest}` as `who`.
    pub fn call<'a>(
        &self,
        app: &'a TestApp,
        who: &Person,
        method: Method,
        rest: impl AsRef<str>,
        body: Option<Value>,
    ) -> impl Future<Output = Reply> + 'a {
        let path = self.path(rest.as_ref());
        let token = who.token.clone();
        async move { app.call(method, &path, Some(&token), body).await }
    }

    /// An API token of `who` with `role`, created through the API: (id, secret).
    pub async fn api_token(&self, app: &TestApp, who: &Person, role: &str) -> (Uuid, String) {
        let reply = self
            .call(
                app,
                who,
                Method::POST,
                "/tokens",
                Some(json!({ "name": "ci", "role": role })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        let id = reply.json["id"].as_str().unwrap().parse().unwrap();
        (id, reply.json["token"].as_str().unwrap().to_owned())
    }

    /// A pending invitation of `email` with `role`, recorded directly (no mail): its id.
    pub async fn invitation(&self, app: &TestApp, email: &str, role: &str) -> Uuid {
        sqlx::query_scalar(
            "insert into app.invitations (tenant_id, email, role, token_hash, invited_by, expires_at)
             values ($1, $2, $3, gen_random_uuid()::text::bytea, $4, now() + interval '7 days')
             returning id",
        )
        .bind(self.tenant)
        .bind(email)
        .bind(role)
        .bind(self.owner.id)
        .fetch_one(&app.admin)
        .await
        .unwrap()
    }

    /// The role of `account` here, if a member.
    pub async fn role_of(&self, app: &TestApp, account: Uuid) -> Option<String> {
        sqlx::query_scalar(
            "select role from app.memberships where tenant_id = $1 and account_id = $2",
        )
        .bind(self.tenant)
        .bind(account)
        .fetch_optional(&app.admin)
        .await
        .unwrap()
    }

    /// The actions of the audit log, newest first.
    pub async fn audit_actions(&self, app: &TestApp) -> Vec<String> {
        sqlx::query_scalar(
            "select action from app.audit_log where tenant_id = $1 order by created_at desc, id desc",
        )
        .bind(self.tenant)
        .fetch_all(&app.admin)
        .await
        .unwrap()
    }
}

/// A new account with a verified `email`, signed in with a password.
pub async fn signed_in(app: &TestApp, email: &str) -> Person {
    let (id, token) = app.person(email).await;
    Person { id, token }
}

/// A new session of `who` proven with a password and a one-time code.
pub async fn with_second_factor(app: &TestApp, who: &Person) -> Person {
    let tokens = app.sign_in_with(who.id, &[amr::PASSWORD, amr::OTP]).await;
    Person {
        id: who.id,
        token: tokens.access_token,
    }
}

/// A new session of `who` whose proof of identity is `minutes` old.
pub async fn proven_minutes_ago(app: &TestApp, who: &Person, minutes: i64) -> Person {
    let mut tx = app.state.db.account(who.id).await.unwrap();
    let proof = Proof {
        auth_time: chrono::Utc::now() - chrono::Duration::minutes(minutes),
        amr: vec![amr::PASSWORD.to_owned()],
    };
    let tokens = dashboard_api::auth::session::start(&mut tx, &app.state.config.keys, &proof, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Person {
        id: who.id,
        token: tokens.access_token,
    }
}
