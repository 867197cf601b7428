//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod api_tokens;
mod commits;
mod dead_jobs;
mod github_signin;
mod identities;
mod invitations;
mod links;
mod matrix;
mod oidc_signin;
mod openapi;
mod org_settings;
mod orgs;
mod passwords;
mod plans;
mod projects;
mod providers_support;
mod query_data;
mod repositories;
mod roles;
mod signin;
mod support;
mod tasks;
mod team;
mod tokens;
mod unlinked;
