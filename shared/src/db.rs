//! The database layer: the embedded migrations, a lazily connecting pool for the runtime role, and
//! [`TenantTx`], the tenant-scoped transaction that is the only way code reaches tenant data.
//!
//! The pool is private to [`Db`]: handlers and jobs cannot run a query without first naming a
//! tenant. Every new physical connection checks that its role cannot bypass row-level security, so
//! a misconfigured `DATABASE_URL` (a superuser, the owner) is refused instead of silently trusted.

use std::ops::{Deref, DerefMut};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    Connection as _, PgConnection, PgPool, Postgres, Transaction,
    migrate::Migrator,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow},
};

use uuid::Uuid;

use crate::{domain::TenantId, jobs::EnqueuedJob};

/// Every migration in `migrations/`, embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The role that owns every table, view and function (NOLOGIN; migrations switch to it).
pub const OWNER_ROLE: &str = "dashboard_owner";
/// The role the services log in as: owns nothing, cannot bypass row-level security.
pub const RUNTIME_ROLE: &str = "dashboard_app";
/// The role owning the narrow `security definer` look-ups that must see across tenants.
pub const LOOKUP_ROLE: &str = "dashboard_lookup";
/// The role owning the `security definer` functions of the job queue.
pub const QUEUE_ROLE: &str = "dashboard_queue";

/// Connection settings every pooled connection gets: the `app` schema first on the search path.
pub fn with_app_schema(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("search_path", "app")])
}

/// The runtime pool. Cloning is cheap; all clones share the pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// A pool that connects on first use (nothing happens at start-up, for fast cold starts).
    pub fn connect_lazy(url: &SecretString, max_connections: u32) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.expose_secret().parse()?;
        Ok(Self::connect_lazy_with(options, max_connections))
    }

    /// Like [`Db::connect_lazy`], from options already parsed.
    pub fn connect_lazy_with(options: PgConnectOptions, max_connections: u32) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(|conn, _meta| Box::pin(async move { check_runtime_role(conn).await }))
            .connect_lazy_with(with_app_schema(options));
        Self { pool }
    }

    /// Opens a transaction bound to `tenant`: row-level security shows and accepts only its rows.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        TenantTx::begin(&self.pool, tenant, None).await
    }

    /// Opens a transaction bound to `tenant` on behalf of `account` (a member acting in their
    /// organization): the tenant's rows and the account's own rows are visible, nothing else.
    pub async fn member(&self, tenant: TenantId, account: Uuid) -> Result<TenantTx, sqlx::Error> {
        TenantTx::begin(&self.pool, tenant, Some(account)).await
    }

    /// Opens a transaction whose tenant (and account) the first statement itself sets: `statement`
    /// looks up what entitles the caller — a membership, an API token — calls
    /// `set_config('app.tenant_id', …, true)` and `set_config('app.account_id', …, true)` for the row
    /// it returns, and returns nothing when there is no entitlement (then the transaction is rolled
    /// back and `None` returned). One round trip decides and opens; a statement that sets nothing
    /// leaves a transaction in which every tenant table fails with "tenant context not set".
    pub async fn enter<R>(
        &self,
        statement: &'static str,
        arguments: PgArguments,
    ) -> Result<Option<(TenantTx, R)>, sqlx::Error>
    where
        R: for<'r> sqlx::FromRow<'r, PgRow> + TenantRow + Send + Unpin,
    {
        let mut tx = self.pool.begin().await?;
        let row: Option<R> = sqlx::query_as_with(statement, arguments)
            .fetch_optional(&mut *tx)
            .await?;
        Ok(row.map(|row| {
            let tx = TenantTx {
                tx,
                tenant: row.tenant(),
                enqueued: Vec::new(),
            };
            (tx, row)
        }))
    }

    /// Opens a transaction as `account` with no tenant: the person's own rows (account, identities,
    /// sessions, MFA, emailed links) are visible, no organization's.
    pub async fn account(&self, account: Uuid) -> Result<AccountTx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("select set_config('app.account_id', $1, true)")
            .bind(account.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(AccountTx { tx, account })
    }

    /// Round-trips to the database (`/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// A dedicated connection for `LISTEN` (job notifications).
    pub async fn listener(&self) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        sqlx::postgres::PgListener::connect_with(&self.pool).await
    }

    /// Closes every connection (at shutdown), waiting for checked-out ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Connects once now and checks the role, so a role that could bypass row-level security stops
    /// start-up with a clear error (the pool's own check would only surface as a timeout).
    pub async fn verify_runtime_role(&self) -> Result<(), sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.pool.connect_options()).await?;
        check_runtime_role(&mut conn).await?;
        conn.close().await
    }

    /// A connection that has no tenant set, for the narrow cross-tenant look-up functions (which
    /// return only what their step needs) and for tests that prove nothing is visible without a
    /// tenant. Any tenant-owned table read on it fails with "tenant context not set".
    pub async fn without_tenant(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }
}

/// The roles whose members could step over the fence: the owner of the tables, and the owners of
/// the cross-tenant look-ups and of the job queue (whose functions run with their rights).
const PRIVILEGED_ROLES: [&str; 3] = [OWNER_ROLE, LOOKUP_ROLE, QUEUE_ROLE];

/// Refuses a connection whose role could see or change other tenants' rows: a superuser, a
/// `BYPASSRLS` or `CREATEROLE` role, the owner (or a member of the owner) of a table, or a member of
/// one of the [`PRIVILEGED_ROLES`].
async fn check_runtime_role(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (role, problems): (String, Vec<String>) = sqlx::query_as(
        "select r.rolname::text,
                array_remove(array[
                  case when r.rolsuper then 'SUPERUSER' end,
                  case when r.rolbypassrls then 'BYPASSRLS' end,
                  case when r.rolcreaterole then 'CREATEROLE' end,
                  case when exists (
                    select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname in ('app', 'lookup', 'queue') and pg_has_role(r.oid, c.relowner, 'MEMBER')
                  ) then 'owns tables' end
                ], null)
                || array(select 'member of ' || p.rolname::text from pg_roles p
                         where p.rolname = any($1) and pg_has_role(r.oid, p.oid, 'MEMBER')
                         order by p.rolname)
         from pg_roles r where r.rolname = current_user",
    )
    .bind(PRIVILEGED_ROLES)
    .fetch_one(&mut *conn)
    .await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!(
                "database role `{role}` could bypass row-level security ({}); \
                 connect as the runtime role `{RUNTIME_ROLE}`",
                problems.join(", ")
            )
            .into(),
        ))
    }
}

/// A transaction in which `app.tenant_id` is set (transaction-local, so it cannot leak to the next
/// user of the pooled connection). Dereferences to the connection for queries; dropping it without
/// [`TenantTx::commit`] rolls back.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    enqueued: Vec<EnqueuedJob>,
}

impl TenantTx {
    async fn begin(
        pool: &PgPool,
        tenant: TenantId,
        account: Option<Uuid>,
    ) -> Result<Self, sqlx::Error> {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "select set_config('app.tenant_id', $1, true), set_config('app.account_id', $2, true)",
        )
        .bind(tenant.to_string())
        .bind(
            account
                .map(|account| account.to_string())
                .unwrap_or_default(),
        )
        .execute(&mut *tx)
        .await?;
        Ok(Self {
            tx,
            tenant,
            enqueued: Vec::new(),
        })
    }

    /// The tenant this transaction is bound to.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// Commits; the tenant setting ends with the transaction. Returns the jobs enqueued in it, which
    /// the caller hands to its [`Transport`](crate::jobs::Transport) (a no-op for `postgres`).
    pub async fn commit(self) -> Result<Vec<EnqueuedJob>, sqlx::Error> {
        self.tx.commit().await?;
        Ok(self.enqueued)
    }

    /// Records a job enqueued in this transaction, for the transport to announce after commit.
    pub(crate) fn record_enqueued(&mut self, job: EnqueuedJob) {
        self.enqueued.push(job);
    }
}

impl Deref for TenantTx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for TenantTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// A row that names the tenant a transaction was entered for ([`Db::enter`]).
pub trait TenantRow {
    /// The tenant the statement bound the transaction to.
    fn tenant(&self) -> TenantId;
}

/// A transaction in which `app.account_id` is set and no tenant is: a person's own rows across
/// organizations. Dereferences to the connection; dropping it without [`AccountTx::commit`] rolls
/// back.
#[derive(Debug)]
pub struct AccountTx {
    tx: Transaction<'static, Postgres>,
    account: Uuid,
}

impl AccountTx {
    /// The account this transaction acts as.
    pub fn account_id(&self) -> Uuid {
        self.account
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Binds the transaction to `tenant` as well, until [`AccountTx::leave_tenant`]: for a change
    /// the person makes in each of their organizations at once (an audit record, revoking their
    /// tokens). Row-level security still shows only that tenant's rows.
    pub async fn enter_tenant(&mut self, tenant: TenantId) -> Result<(), sqlx::Error> {
        sqlx::query("select set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
    }

    /// Unbinds the tenant [`AccountTx::enter_tenant`] set: no tenant's rows are visible again.
    pub async fn leave_tenant(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("select set_config('app.tenant_id', '', true)")
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
    }
}

impl Deref for AccountTx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for AccountTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}
