//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod github_signin;
mod identities;
mod oidc_signin;
mod orgs;
mod providers_support;
mod signin;
mod support;
mod tokens;
