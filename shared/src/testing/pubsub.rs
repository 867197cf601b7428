//! A [`Publisher`] that records what would have gone to Pub/Sub, and the push envelope Pub/Sub would
//! post for it, so tests can play the subscription's part.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::jobs::{JobMessage, Publisher, Queue, Transport};

/// Records published messages in order.
#[derive(Default)]
pub struct RecordingPublisher {
    sent: Mutex<Vec<(Queue, JobMessage)>>,
}

impl RecordingPublisher {
    /// A `pubsub` transport publishing into a new recorder, and the recorder.
    pub fn transport() -> (Transport, Arc<Self>) {
        let recorder = Arc::new(Self::default());
        (Transport::PubSub(recorder.clone()), recorder)
    }

    /// Takes the messages recorded so far.
    pub fn take(&self) -> Vec<(Queue, JobMessage)> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}

impl Publisher for RecordingPublisher {
    fn publish(
        &self,
        queue: Queue,
        message: JobMessage,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        self.sent.lock().unwrap().push((queue, message));
        Box::pin(async { Ok(()) })
    }
}

/// The body Pub/Sub's push subscription posts for `message`.
pub fn push_envelope(message: &JobMessage, message_id: &str) -> Value {
    json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(&message.data),
            "attributes": message.attributes,
            "messageId": message_id,
            "publishTime": "2026-11-26T09:00:00.000Z",
        },
        "subscription": "projects/dashboard-test/subscriptions/link-jobs-push",
    })
}
