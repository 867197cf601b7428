//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod oidc_signin;
mod orgs;
mod providers_support;
mod support;
mod tokens;
