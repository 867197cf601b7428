//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod api_tokens;
mod github_signin;
mod identities;
mod invitations;
mod matrix;
mod oidc_signin;
mod openapi;
mod org_settings;
mod orgs;
mod passwords;
mod projects;
mod providers_support;
mod query_data;
mod roles;
mod signin;
mod support;
mod team;
mod tokens;
