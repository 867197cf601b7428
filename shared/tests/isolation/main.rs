//! The tenant isolation suite, against real PostgreSQL, as the runtime role the services use.
//!
//! Tables are enumerated from the catalog, so a table added later without forced row-level security,
//! tenant-leading keys or seed rows fails here by itself. Each test gets a fresh migrated database.

mod catalog;
mod keys;
mod roles;
mod rows;
mod seed;
mod upgrade;

/// The migrations every test database gets.
pub use dashboard_shared::db::MIGRATOR;

/// The SQLSTATE of a database error (`42501` insufficient privilege, `23503` foreign key), if any.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|code| code.into_owned())
}
