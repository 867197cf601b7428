//! `POST /webhooks/github`: check the headers, read the raw body (within [`crate::guard`]'s limits:
//! a size, a time, a memory budget), verify the signature before any parsing, decode the payload
//! (JSON, or the `payload` field of a form), find the tenants by the delivery's installation (or hook), and persist
//! the delivery with the jobs it causes, one transaction per tenant. The answer is 202 only after
//! everything committed; 503 only when it could not be persisted (or, before its signature was
//! checked, when the unverified bodies' budget was spent).

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode, header::CONTENT_TYPE},
};
use dashboard_shared::{Error, TenantId};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    AppState,
    authenticate::{self, Sender},
    events,
};

/// Largest body accepted: GitHub caps payloads at 25 MB.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// The hook id recorded for App deliveries that carry no `X-GitHub-Hook-ID`.
const NO_HOOK_ID: i64 = 0;

/// What the receiver answers with 202.
#[derive(Debug, Serialize)]
pub struct Receipt {
    /// `accepted` (stored for at least one tenant), `duplicate` (seen before) or `ignored` (no tenant
    /// has connected what it is about; kept outside every tenant).
    pub status: &'static str,
    /// How many tenants it was stored for.
    pub tenants: usize,
}

/// The delivery headers we rely on or record.
#[derive(Debug)]
pub struct DeliveryHeaders {
    /// `X-GitHub-Event`.
    pub event: String,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-GitHub-Hook-ID` (0 when absent).
    pub hook_id: i64,
    pub(crate) signature: String,
    /// The headers stored with the delivery (never the signature).
    pub recorded: Value,
}

impl DeliveryHeaders {
    fn parse(headers: &HeaderMap) -> Result<Self, Error> {
        let required = |name: &str| -> Result<String, Error> {
            match headers.get(name).map(|v| v.to_str().map(str::trim)) {
                Some(Ok(value)) if !value.is_empty() => Ok(value.to_owned()),
                Some(Err(_)) => Err(Error::BadRequest(format!(
                    "header {name} is not valid text"
                ))),
                _ => Err(Error::BadRequest(format!("header {name} is required"))),
            }
        };
        let optional = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let event = required("x-github-event")?;
        let delivery_id = required("x-github-delivery")?;
        if delivery_id.len() > 100 {
            return Err(Error::BadRequest(
                "header X-GitHub-Delivery is too long".into(),
            ));
        }
        let signature = required("x-hub-signature-256")?;
        let hook_id = match optional("x-github-hook-id") {
            None => NO_HOOK_ID,
            Some(raw) => raw.trim().parse().map_err(|_| {
                Error::BadRequest("header X-GitHub-Hook-ID must be a number".into())
            })?,
        };
        let recorded = json!({
            "x-github-event": event,
            "x-github-delivery": delivery_id,
            "x-github-hook-id": optional("x-github-hook-id"),
            "x-github-hook-installation-target-type": optional("x-github-hook-installation-target-type"),
            "x-github-hook-installation-target-id": optional("x-github-hook-installation-target-id"),
            "user-agent": optional("user-agent"),
            "content-type": optional("content-type"),
        });
        Ok(Self {
            event,
            delivery_id,
            hook_id,
            signature,
            recorded,
        })
    }

    /// `X-GitHub-Hook-Installation-Target-Type`: `integration` for GitHub App deliveries.
    pub fn target_type(&self) -> Option<&str> {
        self.recorded["x-github-hook-installation-target-type"].as_str()
    }

    fn target_id(&self) -> Option<i64> {
        self.recorded["x-github-hook-installation-target-id"]
            .as_str()
            .and_then(|v| v.parse().ok())
    }
}

/// The handler.
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Receipt>), Error> {
    let delivery = DeliveryHeaders::parse(&headers)?;
    let (body, sender) = {
        // Until the signature verifies, the body holds its share of a bounded budget.
        let unverified = state.guard.read_body(&headers, body).await?;
        let sender = authenticate::sender(&state, &delivery, &unverified.body).await?;
        (unverified.body, sender)
    };
    let (payload, json) = decode_payload(&headers, &body)?;
    if delivery.event == "ping" && sender == Sender::App {
        check_ping(&state, &payload)?;
    }
    let routes = match sender {
        Sender::App => events::route(&state.db, &delivery, &payload)
            .await
            .map_err(unavailable)?,
        Sender::RepositoryHook(route) => vec![route],
    };
    let receipt = persist(&state, &delivery, &payload, &json, &routes).await?;
    tracing::info!(
        delivery.id = %delivery.delivery_id,
        hook.id = delivery.hook_id,
        event = %delivery.event,
        action = payload["action"].as_str().unwrap_or(""),
        status = receipt.status,
        tenants = receipt.tenants,
        "webhook delivery received"
    );
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}

/// JSON from an `application/json` body, or from the `payload` field of a form body: the parsed
/// payload and the JSON text that is stored (the body itself, or the form's decoded field: the
/// workers read stored deliveries as JSON).
fn decode_payload(headers: &HeaderMap, body: &Bytes) -> Result<(Value, Bytes), Error> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = match media_type.as_str() {
        "application/json" => body.clone(),
        "application/x-www-form-urlencoded" => {
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|_| Error::BadRequest("the form body could not be decoded".into()))?;
            let (_, payload) = fields
                .into_iter()
                .find(|(name, _)| name == "payload")
                .ok_or_else(|| Error::BadRequest("the form body has no `payload` field".into()))?;
            Bytes::from(payload)
        }
        _ => {
            return Err(Error::UnsupportedMediaType(format!(
                "content type `{content_type}` is not supported: set the webhook's content type to application/json"
            )));
        }
    };
    let payload: Value = serde_json::from_slice(&json)
        .map_err(|e| Error::BadRequest(format!("the payload is not valid JSON: {e}")))?;
    if payload.is_object() {
        Ok((payload, json))
    } else {
        Err(Error::BadRequest(
            "the payload must be a JSON object".into(),
        ))
    }
}

/// An App's `ping` names the App: it must be ours.
fn check_ping(state: &AppState, payload: &Value) -> Result<(), Error> {
    match (payload["hook"]["app_id"].as_u64(), state.config.app_id) {
        (Some(sent), Some(ours)) if sent != ours => {
            tracing::warn!(app.id = sent, "ping from another GitHub App rejected");
            Err(Error::Unauthorized)
        }
        _ => Ok(()),
    }
}

/// Stores the delivery (`body`: its JSON) for every tenant it concerns (with its jobs), or outside
/// every tenant.
async fn persist(
    state: &AppState,
    delivery: &DeliveryHeaders,
    payload: &Value,
    body: &[u8],
    routes: &[Route],
) -> Result<Receipt, Error> {
    if routes.is_empty() {
        let mut conn = state.db.without_tenant().await.map_err(unavailable)?;
        let new: bool = sqlx::query_scalar(
            "select lookup.record_unrouted_delivery($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(delivery.hook_id)
        .bind(&delivery.delivery_id)
        .bind(&delivery.event)
        .bind(payload["action"].as_str())
        .bind(
            payload["installation"]["id"]
                .as_i64()
                .or(delivery.target_id()),
        )
        .bind(payload["repository"]["id"].as_i64())
        .bind(&delivery.recorded)
        .bind(body)
        .fetch_one(&mut *conn)
        .await
        .map_err(unavailable)?;
        return Ok(Receipt {
            status: if new { "ignored" } else { "duplicate" },
            tenants: 0,
        });
    }
    let mut stored = 0;
    for route in routes {
        let mut tx = state.db.tenant(route.tenant).await.map_err(unavailable)?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "insert into webhook_deliveries
               (hook_id, delivery_id, event, action, installation_target_type, installation_target_id,
                user_agent, headers, body)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict (tenant_id, hook_id, delivery_id) do nothing
             returning id",
        )
        .bind(delivery.hook_id)
        .bind(&delivery.delivery_id)
        .bind(&delivery.event)
        .bind(payload["action"].as_str())
        .bind(delivery.recorded["x-github-hook-installation-target-type"].as_str())
        .bind(delivery.target_id())
        .bind(delivery.recorded["user-agent"].as_str())
        .bind(&delivery.recorded)
        .bind(body)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
        let Some(id) = id else { continue };
        if let Some(repository) = route.repository {
            // Its sync health shows when a delivery last came.
            sqlx::query!(
                "update repositories set last_delivery_at = now() where id = $1",
                repository
            )
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        let effect = events::apply(&mut tx, route, id, &delivery.event, payload)
            .await
            .map_err(unavailable)?;
        if effect.jobs == 0 {
            sqlx::query(
                "update webhook_deliveries set status = $2, processed_at = now() where id = $1",
            )
            .bind(id)
            .bind(effect.status())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        let enqueued = tx.commit().await.map_err(unavailable)?;
        state.transport.dispatch(&enqueued).await;
        stored += 1;
    }
    let status = if stored == 0 { "duplicate" } else { "accepted" };
    Ok(Receipt {
        status,
        tenants: stored,
    })
}

/// Persisting failed: GitHub must be told (503) so the reconciler redelivers it.
pub(crate) fn unavailable(error: impl Into<anyhow::Error>) -> Error {
    Error::Unavailable(error.into())
}

/// The tenant (and, when the delivery is about one, the repository) a delivery is stored for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The tenant.
    pub tenant: TenantId,
    /// The tenant's repository row the delivery is about.
    pub repository: Option<Uuid>,
}
