//! Everything two or more Dashboard functions use: typed configuration, telemetry, the one
//! problem+json error type, the database layer (pool, migrations, tenant-scoped transactions),
//! health routes and the runtime that serves a router on Cloud Run, AWS Lambda or a laptop.

pub mod commits;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod github;
pub mod health;
pub mod hook_secrets;
pub mod jobs;
pub mod links;
pub mod plan;
pub mod remote;
pub mod serve;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use config::Config;
pub use db::{AccountTx, Db, TenantTx};
pub use domain::TenantId;
pub use error::Error;
