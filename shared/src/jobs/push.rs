//! `POST /jobs/push`: the consumer side of the `pubsub` transport. Pub/Sub's push subscription
//! posts an envelope (`message.data` base64, `attributes`, `messageId`, `subscription`); the message
//! names a job, which is claimed (`for update skip locked`), run, and answered 2xx (done, dead, or
//! nothing left to do) or 5xx (failed, or running elsewhere) so that Pub/Sub retries with backoff.
//! Cloud Run lets only the subscription's service account invoke the consumers (IAM + OIDC).

use std::{collections::BTreeMap, sync::Arc};

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use base64::Engine as _;
use serde::Deserialize;
use tracing::Instrument as _;

use super::{JobMessage, Outcome, Worker};
use crate::Error;

/// The body Pub/Sub posts to a push endpoint.
#[derive(Debug, Deserialize)]
pub struct PushEnvelope {
    /// The message.
    pub message: PushMessage,
    /// `projects/…/subscriptions/…`.
    pub subscription: String,
    /// How often Pub/Sub has delivered it (present when a dead-letter policy is set).
    #[serde(rename = "deliveryAttempt")]
    pub delivery_attempt: Option<u32>,
}

/// The message inside a [`PushEnvelope`].
#[derive(Debug, Deserialize)]
pub struct PushMessage {
    /// The body, base64.
    #[serde(default)]
    pub data: String,
    /// Attributes set by the publisher.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Pub/Sub's id of the message.
    #[serde(rename = "messageId")]
    pub message_id: String,
}

impl PushEnvelope {
    /// The job message it carries.
    pub fn job_message(&self) -> Result<JobMessage, String> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(&self.message.data)
            .map_err(|e| format!("message.data is not base64: {e}"))?;
        Ok(JobMessage {
            data,
            attributes: self.message.attributes.clone(),
        })
    }
}

/// The push endpoint for `worker`'s queue.
pub fn router<C: Clone + Send + Sync + 'static>(worker: Arc<Worker<C>>) -> Router {
    Router::new()
        .route("/jobs/push", post(receive::<C>))
        .with_state(worker)
}

async fn receive<C: Clone + Send + Sync + 'static>(
    State(worker): State<Arc<Worker<C>>>,
    Json(envelope): Json<PushEnvelope>,
) -> Result<StatusCode, Error> {
    let message = envelope.job_message().map_err(Error::BadRequest)?;
    let (tenant, job) = message.job().map_err(Error::BadRequest)?;
    let span = tracing::info_span!("push", message.id = %envelope.message.message_id, job.id = %job, tenant.id = %tenant);
    let outcome = worker
        .run_job(tenant, job)
        .instrument(span)
        .await
        .map_err(Error::Unavailable)?;
    match outcome {
        Some(Outcome::Done) => Ok(StatusCode::NO_CONTENT),
        Some(Outcome::Dead(error)) => {
            tracing::error!(job.id = %job, %error, "job is dead after its last attempt");
            Ok(StatusCode::NO_CONTENT)
        }
        Some(Outcome::Retry(error)) => Err(Error::Unavailable(anyhow::anyhow!(
            "job failed; retry: {error}"
        ))),
        None if worker
            .is_pending(tenant, job)
            .await
            .map_err(Error::Unavailable)? =>
        {
            Err(Error::Unavailable(anyhow::anyhow!(
                "job is running elsewhere"
            )))
        }
        None => Ok(StatusCode::NO_CONTENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example push request of Google's "Receive messages from push subscriptions" page.
    const DOCUMENTED_ENVELOPE: &str = r#"{
      "message": {
        "attributes": { "key": "value" },
        "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
        "messageId": "2070443601311540",
        "message_id": "2070443601311540",
        "publishTime": "2021-02-26T19:13:55.749Z",
        "publish_time": "2021-02-26T19:13:55.749Z"
      },
      "subscription": "projects/myproject/subscriptions/mysubscription"
    }"#;

    #[test]
    fn the_documented_push_envelope_decodes() {
        let envelope: PushEnvelope = serde_json::from_str(DOCUMENTED_ENVELOPE).unwrap();
        assert_eq!(
            envelope.subscription,
            "projects/myproject/subscriptions/mysubscription"
        );
        assert_eq!(envelope.message.message_id, "2070443601311540");
        assert_eq!(envelope.delivery_attempt, None);
        let message = envelope.job_message().unwrap();
        assert_eq!(message.data, b"Hello Cloud Pub/Sub! Here is my message!");
        assert_eq!(message.attributes["key"], "value");
        assert!(message.job().is_err(), "not one of our jobs");
    }

    #[test]
    fn our_message_survives_the_round_trip_through_an_envelope() {
        let job = super::super::EnqueuedJob {
            tenant: crate::TenantId::from_uuid(uuid::Uuid::new_v4()),
            id: uuid::Uuid::new_v4(),
            kind: "ingest_push".into(),
            queue: super::super::Queue::Link,
        };
        let sent = JobMessage::for_job(&job);
        let envelope = serde_json::json!({
            "message": {
                "data": base64::engine::general_purpose::STANDARD.encode(&sent.data),
                "attributes": sent.attributes,
                "messageId": "1",
            },
            "subscription": "projects/p/subscriptions/link-jobs-push",
            "deliveryAttempt": 3,
        });
        let envelope: PushEnvelope = serde_json::from_value(envelope).unwrap();
        assert_eq!(envelope.delivery_attempt, Some(3));
        assert_eq!(
            envelope.job_message().unwrap().job(),
            Ok((job.tenant, job.id))
        );
    }
}
