//! The HTTP runtime every function shares: probes, problem+json for unknown paths, readiness that
//! follows the database, and a graceful shutdown that lets in-flight requests finish.

use std::time::Duration;

use axum::{Router, routing::get};
use dashboard_shared::{
    Db,
    serve::{self, serve_on},
    testing::binary::{free_port, get as http_get},
};
use sqlx::{PgPool, postgres::PgConnectOptions};

/// A pool pointing at a port where nothing listens: the database is "down".
fn unreachable_db() -> Db {
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(free_port())
        .username("dashboard_app");
    Db::connect_lazy_with(options, 1)
}

async fn start(
    router: Router,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(listener, router, async {
        let _ = stopped.await;
    }));
    (port, stop, server)
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn readiness_follows_the_database_while_liveness_does_not(admin: PgPool) {
    let (up, _stop_up, _) = start(serve::service(
        Router::new(),
        dashboard_shared::testing::runtime_db(&admin),
    ))
    .await;
    assert_eq!(http_get(up, "/readyz").await.unwrap().0, 200);

    let (down, _stop_down, _) = start(serve::service(Router::new(), unreachable_db())).await;
    assert_eq!(http_get(down, "/healthz").await.unwrap().0, 200);
    let (status, head, body) = http_get(down, "/readyz").await.unwrap();
    assert_eq!(status, 503);
    assert!(
        head.to_ascii_lowercase()
            .contains("application/problem+json"),
        "{head}"
    );
    assert!(body.contains("service temporarily unavailable"), "{body}");
}

#[tokio::test]
async fn unknown_paths_get_a_problem_json_404() {
    let (port, _stop, _) = start(serve::service(Router::new(), unreachable_db())).await;
    let (status, _, body) = http_get(port, "/api/v2/nothing-here").await.unwrap();
    assert_eq!(status, 404);
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["title"], "Not Found");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let slow = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }),
    );
    let (port, stop, server) = start(serve::service(slow, unreachable_db())).await;
    let request = tokio::spawn(async move { http_get(port, "/slow").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();

    let (status, _, body) = request
        .await
        .unwrap()
        .expect("the in-flight request was cut off");
    assert_eq!((status, body.as_str()), (200, "done"));
    server.await.unwrap().unwrap();
    assert!(
        http_get(port, "/healthz").await.is_none(),
        "still serving after shutdown"
    );
}
