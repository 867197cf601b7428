//! Live pages: server-sent events per organization, fed by PostgreSQL `LISTEN`/`NOTIFY`
//! (migration 0038 notifies `dashboard_changes` when an organization's repositories or links
//! change). Each api instance listens once, on one connection, from its first viewer on ([`Hub`]),
//! and fans the notifications out in memory; a viewer's stream carries only its own
//! organization's, and only the name of what changed: the page then fetches its rows through its
//! own authorized request. With several instances each gets every notification from PostgreSQL.
//! A stream ends after [`STREAM_LIFETIME`] so the browser reconnects through the session check
//! (a removed member stops receiving); a reconnecting browser (`Last-Event-ID`) is told to
//! refresh at once, since it may have missed changes.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::State,
    response::{
        IntoResponse as _, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use chrono::Utc;
use dashboard_shared::{Db, TenantId};
use futures_util::{Stream, StreamExt as _, stream};
use http::{HeaderMap, Method};
use serde::Deserialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{
    AppState,
    auth::{
        context::Member,
        permission::{OrgPermission, Permission},
    },
    routes::Route,
};

/// The channel migration 0038 notifies.
pub const CHANNEL: &str = "dashboard_changes";
/// How long one event stream lasts before the browser reconnects.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Notifications kept for slow viewers before the oldest are dropped (they then refresh).
const BUFFER: usize = 1024;

/// What changed: an organization's table, or (after the listening connection was lost) anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The organization, or `None` for every organization.
    pub tenant: Option<TenantId>,
    /// The table named by the notification (`repositories`, `commit_task_links`), or `resync`.
    pub table: String,
}

/// The instance's one listener and its fan-out.
#[derive(Clone, Debug)]
pub struct Hub {
    sender: broadcast::Sender<Change>,
    started: Arc<AtomicBool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            started: Arc::default(),
        }
    }
}

impl Hub {
    /// The changes from now on, listening first if this instance does not yet.
    pub fn subscribe(&self, db: &Db) -> broadcast::Receiver<Change> {
        if !self.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen(db.clone(), self.sender.clone()));
        }
        self.sender.subscribe()
    }
}

#[derive(Deserialize)]
struct Notification {
    tenant: Uuid,
    table: String,
}

/// Listens on [`CHANNEL`] for good, reconnecting after a second when the connection is lost
/// (and telling every viewer to refresh, since notifications were missed meanwhile).
async fn listen(db: Db, sender: broadcast::Sender<Change>) {
    loop {
        match db.listener().await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    let _ = sender.send(Change {
                        tenant: None,
                        table: "resync".into(),
                    });
                    while let Ok(notification) = listener.recv().await {
                        match serde_json::from_str::<Notification>(notification.payload()) {
                            Ok(n) => {
                                let _ = sender.send(Change {
                                    tenant: Some(TenantId::from_uuid(n.tenant)),
                                    table: n.table,
                                });
                            }
                            Err(error) => {
                                tracing::warn!(%error, "an unreadable change notification")
                            }
                        }
                    }
                    tracing::warn!("the change listener's connection was lost; reconnecting");
                }
                Err(error) => tracing::warn!(%error, "listening for changes failed"),
            },
            Err(error) => tracing::warn!(%error, "connecting the change listener failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The route of the event stream.
pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/orgs/{org}/events",
        Permission::Org(OrgPermission::ReadData),
        get(events),
    )]
}

async fn events(State(state): State<AppState>, member: Member, headers: HeaderMap) -> Response {
    let tenant = member.org.tenant;
    // The stream holds no database connection: the membership was checked, the transaction ends.
    drop(member);
    let resumed = headers.contains_key("last-event-id");
    let receiver = state.live.subscribe(&state.db);
    Sse::new(changes(tenant, receiver, resumed))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The events of `tenant`'s changes from `receiver`, starting with a refresh when `resumed`.
fn changes(
    tenant: TenantId,
    receiver: broadcast::Receiver<Change>,
    resumed: bool,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let first = resumed.then(|| event("resync"));
    let rest = stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) if change.tenant.is_none_or(|t| t == tenant) => {
                    return Some((event(&change.table), receiver));
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((event("resync"), receiver));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    stream::iter(first)
        .chain(rest)
        .map(Ok)
        .take_until(tokio::time::sleep(STREAM_LIFETIME))
}

fn event(table: &str) -> Event {
    Event::default()
        .event("change")
        .id(Utc::now().timestamp_millis().to_string())
        .data(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_carries_only_its_organizations_changes() {
        let hub = Hub::default();
        let (mine, theirs) = (
            TenantId::from_uuid(Uuid::new_v4()),
            TenantId::from_uuid(Uuid::new_v4()),
        );
        let stream = changes(mine, hub.sender.subscribe(), true);
        for (tenant, table) in [(theirs, "repositories"), (mine, "commit_task_links")] {
            hub.sender
                .send(Change {
                    tenant: Some(tenant),
                    table: table.into(),
                })
                .unwrap();
        }
        drop(hub);
        let seen: Vec<String> = stream.map(|e| format!("{:?}", e.unwrap())).collect().await;
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].contains("resync"), "{seen:?}");
        assert!(seen[1].contains("commit_task_links"), "{seen:?}");
    }
}
