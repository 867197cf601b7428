//! The web dashboard: server-rendered pages served by the api function itself. Each page group is
//! a module whose routes join [`pages`], the pages' own route table: every page declares the
//! [`Permission`](crate::auth::permission::Permission) it needs and runs behind the same
//! [`authorize`](crate::auth::context::authorize) as the JSON API, and each calls the same `db.rs`
//! functions. Around them, in this order from the outside: the security headers, problems shown
//! as pages ([`errors`]), the session cookie turned into the caller's credential ([`session`]) and
//! the CSRF check of every form ([`csrf`]). Pages work as plain links and forms; `app.js` only
//! swaps live rows in ([`live`]).

mod accounts;
pub mod assets;
mod charts;
mod commits;
pub mod csrf;
mod errors;
mod layout;
pub mod live;
mod organizations;
mod overview;
mod projects;
pub mod session;
mod settings;
mod signin;
mod tasks;
mod unlinked;

use axum::{Router, middleware};

use crate::{
    AppState,
    routes::{self, Route},
};

/// Every page, with the permission it needs.
pub fn pages() -> Vec<Route> {
    [
        assets::routes(),
        signin::routes(),
        accounts::routes(),
        organizations::routes(),
        overview::routes(),
        projects::routes(),
        tasks::routes(),
        commits::routes(),
        unlinked::routes(),
        settings::routes(),
        live::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The pages' router: [`pages`], each behind its permission, inside the pages' layers.
pub fn router(state: &AppState) -> Router<AppState> {
    routes::build(state, pages())
        .layer(middleware::from_fn(csrf::check))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::attach,
        ))
        .layer(middleware::from_fn(errors::as_pages))
        .layer(middleware::from_fn(errors::security_headers))
}
