//! A `git` repository's new history as a poll takes it: the commits reachable from a branch's head
//! and from no head the last poll saw, oldest first and at most a budget of them
//! ([`take_within`]), each with the paths it changed ([`new_commit`]).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use dashboard_shared::commits::NewCommit;
use gix::{ObjectId, bstr::ByteSlice as _};

/// At most this many changed paths are kept per commit (a vendoring commit touches thousands).
const MAX_PATHS: usize = 300;

/// The commits reachable from `head` and from none of `hidden`, oldest first, at most `budget` of
/// them: all with `head` when they fit, else the history of the last commit within the budget in
/// topological order (parents before children), with that commit — or a null id and nothing when
/// the budget is spent.
pub(crate) fn take_within(
    repo: &gix::Repository,
    head: ObjectId,
    hidden: &[ObjectId],
    budget: usize,
) -> anyhow::Result<(ObjectId, Vec<ObjectId>)> {
    if budget == 0 {
        return Ok((ObjectId::null(repo.object_hash()), Vec::new()));
    }
    let mut all = repo
        .rev_walk([head])
        .with_hidden(hidden.iter().copied())
        .all()?
        .map(|info| info.map(|info| info.id))
        .collect::<Result<Vec<_>, _>>()?;
    if all.len() <= budget {
        // Oldest first, as a push lists them.
        all.reverse();
        return Ok((head, all));
    }
    let topological = |tip: ObjectId| -> anyhow::Result<Vec<ObjectId>> {
        let walk = gix::traverse::commit::topo::Builder::from_iters(
            &repo.objects,
            [tip],
            Some(hidden.iter().copied()),
        )
        .build()?;
        let mut ids = walk
            .map(|info| info.map(|info| info.id))
            .collect::<Result<Vec<_>, _>>()?;
        ids.reverse();
        Ok(ids)
    };
    // Every ancestor of a commit comes before it, so the history of the last commit within the
    // budget fits in it (side branches that come earlier but are not in it follow next time).
    let last = topological(head)?[budget - 1];
    Ok((last, topological(last)?))
}

/// A commit of the mirror as ingestion takes it: the paths it changed against its first parent.
pub(crate) fn new_commit(repo: &gix::Repository, id: ObjectId) -> anyhow::Result<NewCommit> {
    let commit = repo.find_commit(id)?;
    let author = commit.author()?;
    let at = commit
        .time()
        .ok()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, 0));
    let tree = commit.tree()?;
    let parent_tree = match commit.parent_ids().next() {
        Some(parent) => Some(parent.object()?.peel_to_tree()?),
        None => None,
    };
    let kind = repo.object_hash();
    let mut recorder = gix::diff::tree::Recorder::default();
    gix::diff::tree(
        gix::objs::TreeRefIter::from_bytes(parent_tree.as_ref().map_or(&[][..], |t| &t.data), kind),
        gix::objs::TreeRefIter::from_bytes(&tree.data, kind),
        gix::diff::tree::State::default(),
        &repo.objects,
        &mut recorder,
    )?;
    let mut seen = HashSet::new();
    let paths = recorder
        .records
        .into_iter()
        .filter(|change| !change_mode(change).is_tree())
        .map(|change| change_path(&change).to_string())
        .filter(|path| seen.insert(path.clone()))
        .take(MAX_PATHS)
        .collect();
    Ok(NewCommit {
        sha: id.to_string(),
        message: commit.message_raw_sloppy().to_str_lossy().into_owned(),
        author_name: Some(author.name.to_str_lossy().trim().to_owned()),
        author_email: Some(author.email.to_str_lossy().trim().to_owned()),
        at,
        paths,
    })
}

fn change_mode(change: &gix::diff::tree::recorder::Change) -> gix::objs::tree::EntryMode {
    use gix::diff::tree::recorder::Change;
    match change {
        Change::Addition { entry_mode, .. }
        | Change::Deletion { entry_mode, .. }
        | Change::Modification { entry_mode, .. } => *entry_mode,
    }
}

fn change_path(change: &gix::diff::tree::recorder::Change) -> &gix::bstr::BStr {
    use gix::diff::tree::recorder::Change;
    match change {
        Change::Addition { path, .. }
        | Change::Deletion { path, .. }
        | Change::Modification { path, .. } => path.as_ref(),
    }
}
