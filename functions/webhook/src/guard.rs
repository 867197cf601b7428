//! What holds `POST /webhooks/github` against requests nobody signed, before their signature is
//! checked: their bodies may hold at most [`Limits::unverified_bytes`] of memory together, counted as
//! the bytes arrive (so a body that trickles in holds only what it sent, and a flood of them cannot
//! shut signed deliveries out), and must arrive whole within [`Limits::body_timeout`]; the hooks'
//! secrets come from [`HookCache`], whose look-ups hold at most two pool connections.

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header::CONTENT_LENGTH},
};
use dashboard_shared::Error;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{config::Limits, hooks::HookCache, receive::MAX_BODY_BYTES};

/// One per [`crate::AppState`], shared by its clones.
#[derive(Debug)]
pub struct Guard {
    /// The limits it applies.
    pub limits: Limits,
    /// The repository hooks' secrets.
    pub hooks: HookCache,
    /// One permit per byte of unverified body held in memory.
    unverified: Semaphore,
}

/// A body read whole, and the share of the budget it holds until its signature is checked.
pub struct Unverified<'a> {
    /// The raw body.
    pub body: Bytes,
    _held: Option<SemaphorePermit<'a>>,
}

impl Guard {
    /// A guard applying `limits`, its cache empty.
    pub fn new(limits: Limits) -> Self {
        Self {
            hooks: HookCache::new(&limits),
            unverified: Semaphore::new(limits.unverified_bytes),
            limits,
        }
    }

    /// The whole body: at most [`MAX_BODY_BYTES`] (413), arrived within the body timeout (408),
    /// while the unverified bodies' budget lasts (503).
    pub async fn read_body(
        &self,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Unverified<'_>, Error> {
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
            return Err(Error::PayloadTooLarge);
        }
        tokio::time::timeout(self.limits.body_timeout, self.collect(body))
            .await
            .map_err(|_| Error::RequestTimeout)?
    }

    async fn collect(&self, body: Body) -> Result<Unverified<'_>, Error> {
        let mut body = Limited::new(body, MAX_BODY_BYTES);
        let mut buffer = Vec::new();
        let mut held: Option<SemaphorePermit<'_>> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                if error.is::<LengthLimitError>() {
                    Error::PayloadTooLarge
                } else {
                    Error::BadRequest(format!("the body could not be read: {error}"))
                }
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let more = self.hold(data.len())?;
            match &mut held {
                Some(held) => held.merge(more),
                None => held = Some(more),
            }
            buffer.extend_from_slice(&data);
        }
        Ok(Unverified {
            body: Bytes::from(buffer),
            _held: held,
        })
    }

    /// `bytes` more of the budget, or 503 at once when the unverified bodies hold it all.
    fn hold(&self, bytes: usize) -> Result<SemaphorePermit<'_>, Error> {
        u32::try_from(bytes)
            .ok()
            .and_then(|bytes| self.unverified.try_acquire_many(bytes).ok())
            .ok_or_else(|| {
                Error::Unavailable(anyhow::anyhow!(
                    "unverified webhook bodies hold the whole budget of {} bytes",
                    self.limits.unverified_bytes
                ))
            })
    }
}
