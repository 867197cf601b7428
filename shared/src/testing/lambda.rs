//! A stand-in for the AWS Lambda Runtime API (the local HTTP interface a Lambda sandbox offers its
//! process), built from its documented endpoints: it hands out one invocation and records the
//! function's response.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// The fake runtime API, serving one invocation.
pub struct FakeRuntime {
    address: SocketAddr,
    responses: Mutex<mpsc::Receiver<Value>>,
}

#[derive(Clone)]
struct Runtime {
    event: std::sync::Arc<Mutex<Option<Value>>>,
    responses: mpsc::Sender<Value>,
}

impl FakeRuntime {
    /// Starts serving on loopback; the first `next` call receives `event`, later ones wait forever.
    pub async fn start(event: Value) -> Self {
        let (tx, rx) = mpsc::channel(4);
        let state = Runtime {
            event: std::sync::Arc::new(Mutex::new(Some(event))),
            responses: tx,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(respond))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            address,
            responses: Mutex::new(rx),
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The response (or error) the function posted for the invocation.
    pub async fn response(&self) -> Value {
        self.responses
            .lock()
            .await
            .recv()
            .await
            .expect("the runtime stopped")
    }
}

async fn next(State(runtime): State<Runtime>) -> (HeaderMap, Json<Value>) {
    let event = runtime.event.lock().await.take();
    let Some(event) = event else {
        return std::future::pending().await;
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", REQUEST_ID.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:dashboard-test"
            .parse()
            .unwrap(),
    );
    (headers, Json(event))
}

async fn respond(
    State(runtime): State<Runtime>,
    Path(_id): Path<String>,
    body: Bytes,
) -> &'static str {
    // The runtime client posts JSON without declaring a content type, as the real API accepts.
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| json!({ "unparsed": String::from_utf8_lossy(&body) }));
    let _ = runtime.responses.send(body).await;
    "{\"status\":\"OK\"}"
}

async fn init_error(State(runtime): State<Runtime>, body: Bytes) -> &'static str {
    let _ = runtime
        .responses
        .send(json!({ "init_error": String::from_utf8_lossy(&body) }))
        .await;
    "{\"status\":\"OK\"}"
}

/// An API Gateway HTTP API (payload 2.0) event for `GET path`.
pub fn api_gateway_v2_get(path: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "host": "api.example.com", "user-agent": "dashboard-test" },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": { "method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "dashboard-test" },
            "requestId": "request-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1_795_651_200_000_u64
        },
        "isBase64Encoded": false
    })
}
