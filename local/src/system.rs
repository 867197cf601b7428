//! The system on this machine, as every local command reaches it: the database (our own cluster in
//! `.dashboard/postgres` of the current directory, or `$DASHBOARD_DATA_DIR/postgres`, unless
//! `DATABASE_URL` names a server), migrated and seeded; the functions' contexts over the `postgres` transport; and the key that
//! seals repository credentials (`SECRETS_ENCRYPTION_KEY`, else a key kept in the data directory).
//!
//! A command run while `dashboard up` is running shares its cluster and leaves it running; one run
//! alone starts the cluster and stops it when done. The runtime role's password is generated once and
//! kept in the data directory (private to its owner), so that concurrent commands agree on it.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;
use base64::Engine as _;
use dashboard_linker::semantic::Model;
use dashboard_scanner::remote::{FetchPolicy, RemotePolicy};
use dashboard_shared::{
    Db, TenantId,
    config::Env,
    crypto::{SecretBox, random_secret},
    db::{MIGRATOR, RUNTIME_ROLE},
    github::GitHubApp,
    jobs::Transport,
};
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::{PgPool, postgres::PgConnectOptions};

use crate::{connect_admin, postgres, seed};

/// The database and what the functions need, opened by a local command.
pub struct System {
    /// The runtime pool.
    pub db: Db,
    /// The GitHub App, when configured.
    pub github: Option<GitHubApp>,
    /// Seals and opens repository credentials.
    pub secrets: SecretBox,
    /// Local mode: one operator on their own machine may fetch local paths, `file://`, `git://`
    /// and loopback remotes; with the mirror size cap of `SCANNER_MAX_MIRROR_BYTES`.
    pub fetch: FetchPolicy,
    /// The scanner's caps (`SCANNER_MAX_COMMITS_PER_POLL`).
    pub limits: dashboard_scanner::limits::Limits,
    /// The linker's sentence-embedding model (`LINKER_MODEL_DIR`), loaded when a linker first needs it.
    semantic: std::sync::OnceLock<Option<Arc<Model>>>,
    /// Our cluster, when this command started it (stopped by [`System::close`]).
    started: Option<postgres::Cluster>,
}

impl System {
    /// Opens the database (starting our cluster if it is not running), migrated and seeded.
    pub async fn open() -> anyhow::Result<Self> {
        let env = Env::process();
        let (db, started) = match env.get("DATABASE_URL") {
            Some(_) => (external_database(&env).await?, None),
            None => {
                let cluster =
                    postgres::Cluster::new(&data_dir().join("postgres"), postgres::Auth::Password)?;
                let was_running = cluster.is_running()?;
                let db = own_database(&cluster).await?;
                (db, (!was_running).then_some(cluster))
            }
        };
        db.verify_runtime_role()
            .await
            .context("the runtime role check failed")?;
        Ok(Self {
            db,
            github: GitHubApp::from_lookup(&env)?,
            secrets: secret_box(&env)?,
            fetch: FetchPolicy::from_lookup(RemotePolicy::Local, &env)?,
            limits: dashboard_scanner::limits::Limits::from_lookup(&env)?,
            semantic: std::sync::OnceLock::new(),
            started,
        })
    }

    /// Stops our cluster if this command started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.db.close().await;
        if let Some(cluster) = self.started {
            tracing::info!("stopping PostgreSQL");
            cluster.stop()?;
        }
        Ok(())
    }

    /// The tenant with this slug.
    pub async fn tenant(&self, slug: &str) -> anyhow::Result<TenantId> {
        let mut connection = self.db.without_tenant().await?;
        let id: Option<uuid::Uuid> = sqlx::query_scalar("select lookup.tenant_by_slug($1)")
            .bind(slug)
            .fetch_one(&mut *connection)
            .await?;
        id.map(TenantId::from_uuid)
            .with_context(|| format!("no organization `{slug}` (the demo ones: coditect-ai, find-me-a-mechanic, hookup-app)"))
    }

    /// The API's settings: the environment's, else the local URL, signing keys kept in the data
    /// directory (made on first use, like the secrets key) and mail written to `mail/` there.
    pub fn api_config(
        &self,
        env: &Env,
        public_url: String,
    ) -> anyhow::Result<dashboard_api::ApiConfig> {
        let defaults = dashboard_api::config::Defaults {
            public_url: Some(public_url),
            signing_keys: Some(local_signing_keys()?),
            secrets: Some(self.secrets.clone()),
            mail_dir: Some(data_dir().join("mail")),
            remotes: Some(RemotePolicy::Local),
        };
        Ok(dashboard_api::ApiConfig::from_lookup_with(env, defaults)?)
    }

    /// The scanner's context: mirrors in the data directory.
    pub fn scanner(&self) -> dashboard_scanner::ScannerContext {
        dashboard_scanner::ScannerContext {
            db: self.db.clone(),
            transport: Transport::Postgres(self.db.clone()),
            mirrors: data_dir().join("mirrors"),
            github: self.github.clone(),
            store: dashboard_scanner::mirror_store::MirrorStore::Local,
            secrets: Some(self.secrets.clone()),
            fetch: self.fetch.clone(),
            limits: self.limits,
        }
    }

    /// The linker's context; loads the model the first time.
    pub fn linker(&self) -> anyhow::Result<dashboard_linker::LinkerContext> {
        let semantic = match self.semantic.get() {
            Some(loaded) => loaded.clone(),
            None => {
                let loaded = Model::from_lookup(&Env::process())?;
                self.semantic.get_or_init(|| loaded).clone()
            }
        };
        Ok(dashboard_linker::LinkerContext {
            db: self.db.clone(),
            transport: Transport::Postgres(self.db.clone()),
            github: self.github.clone(),
            semantic,
        })
    }

    /// Runs `tenant`'s jobs until none is due or running (some may run in a `dashboard up` beside
    /// this command: they are waited for).
    pub async fn settle(&self, tenant: TenantId) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        loop {
            self.drain().await?;
            let mut tx = self.db.tenant(tenant).await?;
            let pending: i64 = sqlx::query_scalar(
                "select count(*) from jobs where status = 'running' or (status = 'queued' and run_at <= now())",
            )
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            if pending == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{pending} jobs still pending after 10 minutes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Runs the scan and link queues here until both are empty; returns how many jobs ran.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let scanner = dashboard_scanner::worker(self.scanner());
        let linker = dashboard_linker::worker(self.linker()?);
        let mut ran = 0;
        loop {
            let now = scanner.drain().await? + linker.drain().await?;
            if now == 0 {
                return Ok(ran);
            }
            ran += now;
        }
    }
}

/// Where the local system keeps its state: `DASHBOARD_DATA_DIR`, else `.dashboard` in the current
/// directory — like `.git`, each checkout or project folder (and a container's working directory)
/// has its own, and an installed binary needs no source tree. Made absolute, so logs and the
/// cluster's own processes see one path whatever their working directory.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("DASHBOARD_DATA_DIR")
        .map_or_else(|| PathBuf::from(".dashboard"), PathBuf::from);
    std::path::absolute(&dir).unwrap_or(dir)
}

/// `SECRETS_ENCRYPTION_KEY`, or the key kept in the data directory (made on first use).
fn secret_box(env: &Env) -> anyhow::Result<SecretBox> {
    if let Some(secrets) = SecretBox::from_lookup(env)? {
        return Ok(secrets);
    }
    let file = data_dir().join("secrets.key");
    let encoded = match std::fs::read_to_string(&file) {
        Ok(encoded) => encoded,
        Err(_) => {
            let key = hex::decode(random_secret(32).expose_secret()).expect("hex");
            let encoded = base64::engine::general_purpose::STANDARD.encode(key);
            std::fs::create_dir_all(data_dir())?;
            postgres::write_private(&file, &encoded)?;
            encoded
        }
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .filter(|key| key.len() == 32)
        .with_context(|| {
            format!(
                "{} is damaged: remove it, then add credentials again",
                file.display()
            )
        })?;
    Ok(SecretBox::from_key(&key))
}

/// The token signing key kept in the data directory (`jwt-signing.pem`), made on first use.
fn local_signing_keys() -> anyhow::Result<SecretString> {
    let file = data_dir().join("jwt-signing.pem");
    if let Ok(pem) = std::fs::read_to_string(&file) {
        return Ok(SecretString::from(pem));
    }
    let pem = dashboard_api::auth::keys::SigningKeys::generate_pem();
    std::fs::create_dir_all(data_dir())?;
    postgres::write_private(&file, &pem)?;
    Ok(SecretString::from(pem))
}

/// Our own cluster: start it, create the `dashboard` database, migrate, seed, and let the runtime
/// role in with the password kept in the data directory.
async fn own_database(cluster: &postgres::Cluster) -> anyhow::Result<Db> {
    let started = std::time::Instant::now();
    let server = SecretString::from(cluster.start("postgres")?);
    let server_admin = connect_admin(&server).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = 'dashboard')")
            .fetch_one(&server_admin)
            .await?;
    if !exists {
        sqlx::query("create database dashboard")
            .execute(&server_admin)
            .await?;
    }
    server_admin.close().await;
    tracing::info!(
        duration_ms = started.elapsed().as_millis() as u64,
        "PostgreSQL is running"
    );

    let admin = connect_admin(&SecretString::from(cluster.url("dashboard")?)).await?;
    prepare(&admin).await?;
    let password_file = data_dir().join("runtime-password");
    let password = match std::fs::read_to_string(&password_file) {
        Ok(password) if !password.trim().is_empty() => password.trim().to_owned(),
        _ => {
            let password = postgres::random_secret();
            postgres::write_private(&password_file, &password)?;
            password
        }
    };
    let statement: String =
        sqlx::query_scalar("select format('alter role %I password %L', $1::text, $2::text)")
            .bind(RUNTIME_ROLE)
            .bind(&password)
            .fetch_one(&admin)
            .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&admin)
        .await?;
    let options = admin
        .connect_options()
        .as_ref()
        .clone()
        .username(RUNTIME_ROLE)
        .password(&password);
    admin.close().await;
    Ok(Db::connect_lazy_with(options, 10))
}

/// A server someone else runs: `DATABASE_URL` is the runtime role's; `DATABASE_ADMIN_URL`, if set,
/// is used to migrate and seed first.
async fn external_database(env: &Env) -> anyhow::Result<Db> {
    if env.get("DATABASE_ADMIN_URL").is_some() {
        let admin = connect_admin(&env.postgres_url("DATABASE_ADMIN_URL")?).await?;
        prepare(&admin).await?;
        admin.close().await;
    } else {
        tracing::warn!(
            "DATABASE_ADMIN_URL is unset: assuming `dashboard migrate` already ran and tenants exist"
        );
    }
    let url = env.postgres_url("DATABASE_URL")?;
    let options: PgConnectOptions = url.expose_secret().parse()?;
    Ok(Db::connect_lazy_with(options, 10))
}

/// Migrations, then the demo tenants, listed in the log.
async fn prepare(admin: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(admin).await.context("migrations failed")?;
    let tenants = seed::seed_demo_tenants(admin)
        .await
        .context("seeding the demo tenants failed")?;
    for tenant in &tenants {
        tracing::debug!(tenant.id = %tenant.id, tenant.slug = %tenant.slug, tenant.plan = %tenant.plan, "tenant ready");
    }
    let slugs: Vec<&str> = tenants.iter().map(|t| t.slug.as_str()).collect();
    tracing::info!("seeded tenants: {}", slugs.join(", "));
    Ok(())
}
