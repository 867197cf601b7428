//! The `scan_repository` job: sync the repository's mirror, read its default branch from the object
//! database, detect its projects and store them with their tasks. Idempotent.

use std::path::PathBuf;

use dashboard_shared::{Db, TenantId, jobs::Transport, jobs::kinds::ScanRepository};

use crate::{
    detect::{MemTree, Project, Tree, detect},
    git::GitTree,
    mirror,
    store::store_scan,
};

/// What scan jobs need.
#[derive(Clone, Debug)]
pub struct ScannerContext {
    /// The runtime pool.
    pub db: Db,
    /// How the jobs scans enqueue (relinking) reach the linker.
    pub transport: Transport,
    /// Where mirrors are kept.
    pub mirrors: PathBuf,
}

/// Runs a [`ScanRepository`] job for `tenant`.
pub async fn scan_repository(
    ctx: ScannerContext,
    tenant: TenantId,
    job: ScanRepository,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("select provider, clone_url, default_branch from repositories where id = $1 and not archived")
            .bind(job.repository)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((provider, url, branch)) = row else {
        tracing::info!(repository.id = %job.repository, "repository gone or archived; nothing to scan");
        return Ok(());
    };
    anyhow::ensure!(
        provider == "git",
        "fetching {provider} repositories with App credentials over HTTPS is not implemented yet"
    );
    let mirror = mirror::mirror_path(&ctx.mirrors, tenant.as_uuid(), job.repository);
    let (commit, projects, manifests) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(String, Vec<Project>, MemTree)> {
            mirror::sync(&mirror, &url)?;
            let revision = branch.map(|b| format!("refs/heads/{b}"));
            let tree = GitTree::open(&mirror, revision.as_deref())?;
            let projects = detect(&tree);
            // What storing reads again (task lists), copied out of the repository.
            let files = projects
                .iter()
                .filter(|p| p.kind == "tasklist")
                .flat_map(|p| p.manifests.iter())
                .filter_map(|path| tree.read(path).map(|bytes| (path.clone(), bytes)))
                .collect();
            Ok((tree.commit.to_string(), projects, MemTree(files)))
        })
        .await??;
    let stored = store_scan(&mut tx, job.repository, &commit, &manifests, &projects).await?;
    sqlx::query(
        "update repositories set last_scanned_at = now(), last_synced_commit = $2 where id = $1",
    )
    .bind(job.repository)
    .bind(&commit)
    .execute(&mut *tx)
    .await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(repository.id = %job.repository, commit, projects = stored.projects, tasks = stored.tasks, removed = stored.removed, "repository scanned");
    Ok(())
}
