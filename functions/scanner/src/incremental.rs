//! Rescanning only what a push changed: the tree diff between the last scanned commit and the new
//! one (gix, descending only into subtrees whose ids differ). When no changed file is a manifest, a
//! task file, `.gitmodules`, our config or a submodule pin, detection cannot change: only the TODO and
//! FIXME counts of the changed files move, by the difference between their old and new blobs.

use anyhow::Context as _;
use gix::{ObjectId, diff::tree::recorder::Change};

use crate::{
    detect::{count_lines, is_manifest},
    git::read_blob,
};

/// One changed file between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Its path.
    pub path: String,
    /// Its blob before (`None`: added).
    pub old: Option<ObjectId>,
    /// Its blob after (`None`: deleted).
    pub new: Option<ObjectId>,
    /// A submodule pin, not a file.
    pub gitlink: bool,
}

/// What a push did to a repository, as far as scanning goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rescan {
    /// Nothing changed since the last scan.
    Unchanged,
    /// Manifests, task files or submodules changed (or the old commit is gone): detect again.
    Full,
    /// Only other files changed: TODO/FIXME line deltas per changed path.
    Counts(Vec<(String, i64, i64)>),
}

/// Decides how to rescan `repo` from commit `old` to commit `new`.
pub fn plan(repo: &gix::Repository, old: Option<&str>, new: ObjectId) -> anyhow::Result<Rescan> {
    let Some(old) = old.and_then(|o| ObjectId::from_hex(o.as_bytes()).ok()) else {
        return Ok(Rescan::Full);
    };
    if old == new {
        return Ok(Rescan::Unchanged);
    }
    let Ok(changes) = changes(repo, old, new) else {
        // The old commit was rewritten away (a forced push) or never fetched: start over.
        return Ok(Rescan::Full);
    };
    if changes.iter().any(|c| c.gitlink || is_manifest(&c.path)) {
        return Ok(Rescan::Full);
    }
    let counts = |id: Option<ObjectId>| -> (i64, i64) {
        id.and_then(|id| read_blob(repo, id).ok())
            .and_then(|bytes| count_lines(&bytes))
            .map_or((0, 0), |(todo, fixme)| (todo.into(), fixme.into()))
    };
    Ok(Rescan::Counts(
        changes
            .into_iter()
            .map(|change| {
                let (old_todo, old_fixme) = counts(change.old);
                let (new_todo, new_fixme) = counts(change.new);
                (change.path, new_todo - old_todo, new_fixme - old_fixme)
            })
            .filter(|(_, todo, fixme)| *todo != 0 || *fixme != 0)
            .collect(),
    ))
}

/// The files (and submodule pins) that differ between the trees of commits `old` and `new`.
pub fn changes(
    repo: &gix::Repository,
    old: ObjectId,
    new: ObjectId,
) -> anyhow::Result<Vec<FileChange>> {
    let tree_of = |commit: ObjectId| -> anyhow::Result<gix::Tree<'_>> {
        Ok(repo
            .find_object(commit)
            .with_context(|| format!("commit {commit} is not in the mirror"))?
            .peel_to_tree()?)
    };
    let (old_tree, new_tree) = (tree_of(old)?, tree_of(new)?);
    let kind = repo.object_hash();
    let mut recorder = gix::diff::tree::Recorder::default();
    gix::diff::tree(
        gix::objs::TreeRefIter::from_bytes(&old_tree.data, kind),
        gix::objs::TreeRefIter::from_bytes(&new_tree.data, kind),
        gix::diff::tree::State::default(),
        &repo.objects,
        &mut recorder,
    )?;
    Ok(recorder
        .records
        .into_iter()
        .filter_map(|change| {
            let (path, old, new, gitlink) = match change {
                Change::Addition {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (path, None, Some((entry_mode, oid)), entry_mode.is_commit()),
                Change::Deletion {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (path, Some((entry_mode, oid)), None, entry_mode.is_commit()),
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    path,
                } => (
                    path,
                    Some((previous_entry_mode, previous_oid)),
                    Some((entry_mode, oid)),
                    entry_mode.is_commit() || previous_entry_mode.is_commit(),
                ),
            };
            let blob = |side: Option<(gix::objs::tree::EntryMode, ObjectId)>| {
                side.filter(|(mode, _)| mode.is_blob()).map(|(_, id)| id)
            };
            let (old, new) = (blob(old), blob(new));
            (gitlink || old.is_some() || new.is_some()).then(|| FileChange {
                path: path.to_string(),
                old,
                new,
                gitlink,
            })
        })
        .collect())
}
