//! Reading a repository's files at one commit straight from its object database with gix (no
//! checkout). Blobs of 4 MiB or more, and blobs missing from a partial clone, are skipped and listed
//! in [`GitTree::skipped`], never fatal.

use std::{collections::HashMap, path::Path, sync::Mutex};

use anyhow::Context as _;
use gix::ObjectId;

use crate::detect::Tree;

/// Blobs this large or larger are not read.
pub const MAX_BLOB_BYTES: u64 = 4 * 1024 * 1024;

/// The tree of one commit.
pub struct GitTree {
    repo: gix::Repository,
    /// The commit read.
    pub commit: ObjectId,
    entries: Vec<(String, ObjectId)>,
    index: HashMap<String, ObjectId>,
    skipped: Mutex<Vec<String>>,
}

impl GitTree {
    /// The tree of `revision` (default `HEAD`) in the repository at `path` (bare or not).
    pub fn open(path: &Path, revision: Option<&str>) -> anyhow::Result<Self> {
        let repo = gix::open(path)
            .with_context(|| format!("{} is not a git repository", path.display()))?;
        let commit = match revision {
            None => repo
                .head_commit()
                .context("the repository has no commit at HEAD")?,
            Some(rev) => repo
                .rev_parse_single(rev)
                .with_context(|| format!("no revision `{rev}`"))?
                .object()?
                .peel_to_commit()?,
        };
        let commit_id = commit.id;
        let mut recorder = gix::traverse::tree::Recorder::default();
        commit.tree()?.traverse().breadthfirst(&mut recorder)?;
        drop(commit);
        let entries: Vec<(String, ObjectId)> = recorder
            .records
            .into_iter()
            .filter(|entry| entry.mode.is_blob())
            .map(|entry| (entry.filepath.to_string(), entry.oid))
            .collect();
        let index = entries.iter().cloned().collect();
        Ok(Self {
            commit: commit_id,
            repo,
            entries,
            index,
            skipped: Mutex::new(Vec::new()),
        })
    }

    /// Files that could not be read (too large, or absent from a partial clone), with the reason.
    pub fn skipped(&self) -> Vec<String> {
        self.skipped.lock().map(|s| s.clone()).unwrap_or_default()
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
        let id = self.index.get(path)?;
        match self.repo.find_header(*id) {
            Ok(header) if header.size() >= MAX_BLOB_BYTES => {
                self.skip(
                    path,
                    &format!("{} bytes, over the 4 MiB limit", header.size()),
                );
                None
            }
            Ok(_) => match self.repo.find_object(*id) {
                Ok(object) => Some(object.detach().data),
                Err(_) => {
                    self.skip(path, "blob missing from the object database");
                    None
                }
            },
            Err(_) => {
                self.skip(path, "blob missing from the object database");
                None
            }
        }
    }
}
