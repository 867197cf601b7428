//! A value fetched from a provider on first use and kept for a while (discovery documents, key
//! sets): nothing is fetched at start (cold start stays offline), and one fetch runs at a time.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{sync::Mutex, time::Instant};

/// One cached value.
#[derive(Debug, Default)]
pub struct Fetched<T> {
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Fetched<T> {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }

    /// The cached value when it is younger than `max_age`, else a fresh one from `fetch` (kept
    /// only when the fetch succeeds). Callers that wait for a fetch in progress get its result.
    pub async fn get<F, Fut>(&self, max_age: Duration, fetch: F) -> anyhow::Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((fetched_at, value)) = slot.as_ref()
            && fetched_at.elapsed() < max_age
        {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(fetch().await?);
        *slot = Some((Instant::now(), Arc::clone(&value)));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_is_fetched_once_until_it_is_too_old() {
        let cache = Fetched::new();
        let first = cache
            .get(Duration::from_secs(60), || async { Ok(1) })
            .await
            .unwrap();
        let cached = cache
            .get(Duration::from_secs(60), || async { Ok(2) })
            .await
            .unwrap();
        let fresh = cache.get(Duration::ZERO, || async { Ok(3) }).await.unwrap();
        assert_eq!((*first, *cached, *fresh), (1, 1, 3));
        let failed = cache
            .get(Duration::ZERO, || async { anyhow::bail!("down") })
            .await;
        assert!(failed.is_err());
        let kept = cache
            .get(Duration::from_secs(60), || async { Ok(4) })
            .await
            .unwrap();
        assert_eq!(*kept, 3);
    }
}
