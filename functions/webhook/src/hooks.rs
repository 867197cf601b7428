//! The repository hooks' sealed secrets, cached by hook id, misses included, so that a flood of
//! deliveries naming an unknown hook or carrying a bad signature never reaches the pool: an entry is
//! trusted for [`Limits::hook_cache_ttl`], a hook id is looked up by one request at a time (the others
//! wait for its answer), and at most [`MAX_LOOKUPS`] look-ups hold a connection at once. A delivery
//! that fails against an entry older than [`Limits::hook_refresh_after`] looks it up again, once for
//! every request that saw it fail, so a secret rotated (or a hook created) elsewhere is seen soon.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use dashboard_shared::Db;
use moka::{future::Cache, ops::compute::Op};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::config::Limits;

/// Hook ids remembered at most (a few hundred bytes each).
const CAPACITY: u64 = 10_000;
/// Look-ups that may hold a pool connection at once; verified deliveries keep the rest of the pool.
pub const MAX_LOOKUPS: usize = 2;
/// How long a request waits for its turn to look a hook up: a flood of ids nobody knows must not
/// queue a real delivery behind it for ever (it gets 503 and the reconciler redelivers it).
const LOOKUP_WAIT: Duration = Duration::from_secs(5);

/// A hook's owner and its sealed secrets, as `lookup.repository_hook_secrets` returns them.
#[derive(sqlx::FromRow)]
pub struct HookSecrets {
    /// The tenant whose repository the hook is on.
    pub tenant_id: Uuid,
    /// That repository.
    pub repository_id: Uuid,
    /// The current secret, sealed.
    pub secret_encrypted: Vec<u8>,
    /// The secret before the last rotation, sealed.
    pub previous_secret_encrypted: Option<Vec<u8>>,
}

/// What was known about a hook id, and since when.
pub struct Entry {
    /// The hook, or `None`: no such hook (or its tenant is not active).
    pub hook: Option<HookSecrets>,
    fetched: Instant,
}

/// The cache; one per [`crate::AppState`].
pub struct HookCache {
    entries: Cache<i64, Arc<Entry>>,
    lookups: Semaphore,
    refresh_after: std::time::Duration,
}

impl std::fmt::Debug for HookCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl HookCache {
    /// An empty cache with the limits' lifetimes.
    pub fn new(limits: &Limits) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(limits.hook_cache_ttl)
                .build(),
            lookups: Semaphore::new(MAX_LOOKUPS),
            refresh_after: limits.hook_refresh_after,
        }
    }

    /// What is known about `hook_id`: cached, or looked up now.
    pub async fn get(&self, db: &Db, hook_id: i64) -> anyhow::Result<Arc<Entry>> {
        self.entries
            .try_get_with(hook_id, self.look_up(db, hook_id))
            .await
            .map_err(|error| anyhow::anyhow!("{error:#}"))
    }

    /// After `stale` failed to verify a delivery: a fresh entry when `stale` is old enough to be worth
    /// looking up again (the first caller looks it up, the others get its answer), else `None`.
    pub async fn refresh(
        &self,
        db: &Db,
        hook_id: i64,
        stale: &Arc<Entry>,
    ) -> anyhow::Result<Option<Arc<Entry>>> {
        if stale.fetched.elapsed() < self.refresh_after {
            return Ok(None);
        }
        let computed = self
            .entries
            .entry(hook_id)
            .and_try_compute_with(|current| async move {
                match current {
                    Some(current) if !Arc::ptr_eq(current.value(), stale) => Ok(Op::Nop),
                    _ => self.look_up(db, hook_id).await.map(Op::Put),
                }
            })
            .await?;
        Ok(computed
            .into_entry()
            .map(|entry| entry.into_value())
            .filter(|fresh| !Arc::ptr_eq(fresh, stale)))
    }

    async fn look_up(&self, db: &Db, hook_id: i64) -> anyhow::Result<Arc<Entry>> {
        let _turn = tokio::time::timeout(LOOKUP_WAIT, self.lookups.acquire())
            .await
            .map_err(|_| anyhow::anyhow!("too many hook look-ups are waiting"))??;
        let mut conn = db.without_tenant().await?;
        let hook = sqlx::query_as("select * from lookup.repository_hook_secrets($1)")
            .bind(hook_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(Arc::new(Entry {
            hook,
            fetched: Instant::now(),
        }))
    }
}
