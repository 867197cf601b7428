//! Bare mirrors of connected repositories, kept between scans so that a repository is fetched, not
//! cloned again: `<mirrors>/<tenant>/<repository>.git`, cloned and fetched with gix (file paths,
//! `file://`, `git://` and `ssh://` through the system's git transports).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::remote::Direction;

/// Where `repository` of `tenant` is mirrored under `root`.
pub fn mirror_path(root: &Path, tenant: uuid::Uuid, repository: uuid::Uuid) -> PathBuf {
    root.join(tenant.to_string())
        .join(format!("{repository}.git"))
}

/// Clones `url` into `mirror` (bare) if absent, else fetches every branch and tag into it.
/// Blocking: run it on a blocking thread.
pub fn sync(mirror: &Path, url: &str) -> anyhow::Result<()> {
    let interrupt = &gix::interrupt::IS_INTERRUPTED;
    if mirror.join("HEAD").exists() {
        let repo = gix::open(mirror)
            .with_context(|| format!("the mirror {} is damaged", mirror.display()))?;
        let remote = repo.remote_at(url)?.with_refspecs(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            Direction::Fetch,
        )?;
        remote
            .connect(Direction::Fetch)
            .context("failed to reach the repository")?
            .prepare_fetch(gix::progress::Discard, Default::default())?
            .receive(gix::progress::Discard, interrupt)
            .context("fetch failed")?;
    } else {
        std::fs::create_dir_all(mirror.parent().unwrap_or(mirror))?;
        let mut clone =
            gix::prepare_clone_bare(url, mirror).context("cannot clone from this URL")?;
        clone
            .fetch_only(gix::progress::Discard, interrupt)
            .context("clone failed")?;
    }
    Ok(())
}
