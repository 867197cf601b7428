//! Bounds on the blocking work of one job: an [`Interrupt`] of its own (never gix's process-wide
//! flag), set when the job's future is dropped — a timed-out job stops its fetch — and a cap on the
//! pack bytes one fetch may receive, watched while it runs ([`bounded`]).

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// How often a running fetch's received bytes are measured.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The interrupt of one job's blocking work: set when dropped, so that blocking work still running
/// after its job was given up (a timeout drops the job's future) stops at its next check.
#[derive(Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A new, unset interrupt.
    pub fn new() -> Self {
        Self::default()
    }

    /// The flag the blocking work checks (move it into `spawn_blocking`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `work` (a fetch into the repository at `repository`) with a flag it must check: set when
/// `interrupt` is, or when the pack files under `objects/pack` (the whole mirror's, not only this
/// fetch's: a mirror must not grow past the cap a fetch at a time) pass `max_bytes`. Either stops it
/// with a clear error.
pub fn bounded<T>(
    repository: &Path,
    max_bytes: u64,
    interrupt: &AtomicBool,
    work: impl FnOnce(&AtomicBool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    anyhow::ensure!(
        !interrupt.load(Ordering::SeqCst),
        "interrupted: the job was given up"
    );
    let packs = repository.join("objects").join("pack");
    let (stop, over, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
    );
    let result = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if pack_bytes(&packs) > max_bytes {
                    over.store(true, Ordering::SeqCst);
                }
                if over.load(Ordering::SeqCst) || interrupt.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                }
                std::thread::park_timeout(WATCH_EVERY);
            }
        });
        let result = work(&stop);
        done.store(true, Ordering::SeqCst);
        watcher.thread().unpark();
        result
    });
    // A fetch may finish between two measurements: measure once more.
    if over.load(Ordering::SeqCst) || pack_bytes(&packs) > max_bytes {
        anyhow::bail!(
            "the repository is larger than the mirror size cap of {max_bytes} bytes (SCANNER_MAX_MIRROR_BYTES): not fetched"
        );
    }
    if result.is_err() && interrupt.load(Ordering::SeqCst) {
        anyhow::bail!("interrupted: the job was given up");
    }
    result
}

/// The bytes of the files in a pack directory (0 when it does not exist yet).
fn pack_bytes(packs: &Path) -> u64 {
    std::fs::read_dir(packs).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|metadata| metadata.len())
            .sum()
    })
}
