//! Reading a repository's files at one commit straight from its object database with gix (no
//! checkout). Blobs of 4 MiB or more, and blobs missing from a partial clone, are skipped and listed
//! in [`GitTree::skipped`], never fatal. Submodules (gitlinks) are listed with what `.gitmodules` says
//! of them; [`crate::checkout`] mounts their own trees.

use std::{collections::HashMap, path::Path, sync::Mutex};

use anyhow::Context as _;
use gix::ObjectId;

use crate::detect::{Gitlink, Tree};

/// Blobs this large or larger are not read.
pub const MAX_BLOB_BYTES: u64 = 4 * 1024 * 1024;

/// The tree of one commit. Reads may come from many threads: each borrows a thread-local handle
/// on the repository from a small pool.
pub struct GitTree {
    shared: gix::ThreadSafeRepository,
    handles: Mutex<Vec<gix::Repository>>,
    /// The commit read.
    pub commit: ObjectId,
    /// Its tree.
    pub tree: ObjectId,
    entries: Vec<(String, ObjectId)>,
    index: HashMap<String, ObjectId>,
    gitlinks: Vec<Gitlink>,
    skipped: Mutex<Vec<String>>,
}

impl GitTree {
    /// The tree of `revision` (default `HEAD`) in the repository at `path` (bare or not).
    pub fn open(path: &Path, revision: Option<&str>) -> anyhow::Result<Self> {
        let repo = gix::open_opts(path, crate::mirror::isolated())
            .with_context(|| format!("{} is not a git repository", path.display()))?;
        let commit = match revision {
            None => repo
                .head_commit()
                .context("the repository has no commit at HEAD")?,
            Some(rev) => repo
                .rev_parse_single(rev)
                .with_context(|| format!("no revision `{rev}`"))?
                .object()?
                .peel_to_commit()
                .with_context(|| format!("`{rev}` is not a commit"))?,
        };
        let commit_id = commit.id;
        let tree = commit.tree()?;
        let tree_id = tree.id;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse().breadthfirst(&mut recorder)?;
        drop(tree);
        drop(commit);
        let mut entries = Vec::new();
        let mut links = Vec::new();
        for entry in recorder.records {
            if entry.mode.is_blob() {
                entries.push((entry.filepath.to_string(), entry.oid));
            } else if entry.mode.is_commit() {
                links.push((entry.filepath.to_string(), entry.oid));
            }
        }
        let index: HashMap<String, ObjectId> = entries.iter().cloned().collect();
        let tree = Self {
            shared: repo.clone().into_sync(),
            handles: Mutex::new(vec![repo]),
            commit: commit_id,
            tree: tree_id,
            entries,
            index,
            gitlinks: Vec::new(),
            skipped: Mutex::new(Vec::new()),
        };
        let modules = tree.read(".gitmodules").unwrap_or_default();
        let declared = parse_gitmodules(&modules);
        let gitlinks = links
            .into_iter()
            .map(|(path, commit)| {
                let entry = declared.iter().find(|(_, p, _)| *p == path);
                Gitlink {
                    commit: commit.to_string(),
                    name: entry.map(|(name, _, _)| name.clone()),
                    url: entry.and_then(|(_, _, url)| url.clone()),
                    path,
                }
            })
            .collect();
        Ok(Self { gitlinks, ..tree })
    }

    /// Files that could not be read (too large, or absent from a partial clone), with the reason.
    pub fn skipped(&self) -> Vec<String> {
        self.skipped.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The blob id of the file at `path`.
    pub fn blob(&self, path: &str) -> Option<ObjectId> {
        self.index.get(path).copied()
    }

    /// Runs `f` with a handle on the repository for this thread.
    pub fn with_repo<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        let repo = self
            .handles
            .lock()
            .ok()
            .and_then(|mut handles| handles.pop())
            .unwrap_or_else(|| self.shared.to_thread_local());
        let value = f(&repo);
        if let Ok(mut handles) = self.handles.lock() {
            handles.push(repo);
        }
        value
    }

    /// The bytes of blob `id` (at `path`, for the report), unless too large or missing.
    pub fn read_blob(&self, path: &str, id: ObjectId) -> Option<Vec<u8>> {
        self.with_repo(|repo| read_blob(repo, id))
            .map_err(|reason| self.skip(path, &reason))
            .ok()
    }

    fn skip(&self, path: &str, reason: &str) {
        let entry = format!("{path}: {reason}");
        if let Ok(mut skipped) = self.skipped.lock()
            && !skipped.contains(&entry)
        {
            skipped.push(entry);
        }
    }
}

impl Tree for GitTree {
    fn paths(&self) -> Vec<String> {
        self.entries.iter().map(|(path, _)| path.clone()).collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let id = self.blob(path)?;
        self.read_blob(path, id)
    }

    fn gitlinks(&self) -> Vec<Gitlink> {
        self.gitlinks.clone()
    }
}

/// The bytes of blob `id`, or why it cannot be read: 4 MiB or more, or missing (a partial clone).
pub fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>, String> {
    match repo.find_header(id) {
        Ok(header) if header.size() >= MAX_BLOB_BYTES => {
            Err(format!("{} bytes, over the 4 MiB limit", header.size()))
        }
        Ok(_) => repo
            .find_object(id)
            .map(|object| object.detach().data)
            .map_err(|_| "blob missing from the object database".to_owned()),
        Err(_) => Err("blob missing from the object database".to_owned()),
    }
}

/// `(name, path, url)` of every submodule a `.gitmodules` file declares (a git configuration
/// file, read with gix's parser).
pub fn parse_gitmodules(bytes: &[u8]) -> Vec<(String, String, Option<String>)> {
    let Ok(file) = gix::config::File::from_bytes_no_includes(
        bytes,
        gix::config::file::Metadata::api(),
        Default::default(),
    ) else {
        return Vec::new();
    };
    let Some(sections) = file.sections_by_name("submodule") else {
        return Vec::new();
    };
    sections
        .filter_map(|section| {
            let name = section.header().subsection_name()?.to_string();
            let path = section.value("path")?.to_string();
            let url = section.value("url").map(|u| u.to_string());
            Some((name, path.trim_end_matches('/').to_owned(), url))
        })
        .collect()
}
