//! Reading a repository's files at one commit straight from its object database with gix (no
//! checkout). Blobs of 4 MiB or more, and blobs missing from a partial clone, are skipped and listed
//! in [`GitTree::skipped`], never fatal. Submodules (gitlinks) are listed with what `.gitmodules` says
//! of them; [`crate::checkout`] mounts their own trees.
//!
//! Reads come from many threads ([`crate::detect::count_markers`]): each thread keeps its own handle
//! on the repository, with its own bounded caches ([`Caches`]), from one read to the next.

use std::{
    path::Path,
    sync::Mutex,
    thread::{self, ThreadId},
};

use anyhow::Context as _;
use gix::{ObjectId, prelude::Find as _};

use crate::detect::{Gitlink, Tree};

/// Blobs this large or larger are not read.
pub const MAX_BLOB_BYTES: u64 = 4 * 1024 * 1024;

/// The caches of each handle on the repository (one handle per reading thread, so a scan holds at
/// most `threads × (pack + object)` bytes of them).
///
/// gix's pack cache keeps the objects it decoded by pack offset; a read starts from the nearest of
/// them on its delta chain. Reading one commit, a hit is a file whose chain passes through another
/// file already read (similar files, read close together in path order): a small cache catches
/// those, a larger one costs more (every decoded object copied in, fresh pages) than it saves, and
/// an object cache only helps the few files read twice (manifests). Measured in `docs/scanning.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    /// Decoded pack entries by pack offset (git's delta base cache). 0: none.
    pub pack_bytes: usize,
    /// Decoded objects by id. 0: none.
    pub object_bytes: usize,
}

impl Caches {
    /// No caches: every read decodes its object's whole delta chain.
    pub const NONE: Self = Self {
        pack_bytes: 0,
        object_bytes: 0,
    };
}

impl Default for Caches {
    /// 2 MiB of decoded pack entries per reading thread, no object cache.
    fn default() -> Self {
        Self {
            pack_bytes: 2 * 1024 * 1024,
            object_bytes: 0,
        }
    }
}

/// The tree of one commit. Reads may come from many threads: each takes a handle on the repository
/// from a small pool, the one it used last when it is there (so that its caches are warm).
pub struct GitTree {
    shared: gix::ThreadSafeRepository,
    caches: Caches,
    /// Idle handles, each with the thread that used it last.
    handles: Mutex<Vec<Handle>>,
    /// The commit read.
    pub commit: ObjectId,
    /// Its tree.
    pub tree: ObjectId,
    /// Every blob, sorted by path.
    entries: Vec<(String, ObjectId)>,
    gitlinks: Vec<Gitlink>,
    skipped: Mutex<Vec<String>>,
}

impl GitTree {
    /// The tree of `revision` (default `HEAD`) in the repository at `path` (bare or not), read with
    /// the default [`Caches`].
    pub fn open(path: &Path, revision: Option<&str>) -> anyhow::Result<Self> {
        Self::open_with(path, revision, Caches::default())
    }

    /// [`GitTree::open`] with the given caches.
    pub fn open_with(path: &Path, revision: Option<&str>, caches: Caches) -> anyhow::Result<Self> {
        let mut repo = gix::open_opts(path, crate::mirror::isolated())
            .with_context(|| format!("{} is not a git repository", path.display()))?;
        set_caches(&mut repo, caches);
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
            let list = if entry.mode.is_blob() {
                &mut entries
            } else if entry.mode.is_commit() {
                &mut links
            } else {
                continue;
            };
            let path = String::from_utf8(entry.filepath.into())
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            list.push((path, entry.oid));
        }
        entries.sort_unstable();
        let tree = Self {
            shared: repo.clone().into_sync(),
            caches,
            handles: Mutex::new(vec![Handle {
                last_thread: thread::current().id(),
                repo,
                buffer: Vec::new(),
            }]),
            commit: commit_id,
            tree: tree_id,
            entries,
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
        self.entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// How many handles on the repository the tree holds (one per thread that read at once).
    pub fn handles(&self) -> usize {
        self.handles.lock().map_or(0, |h| h.len())
    }

    /// Runs `f` with a handle on the repository for this thread.
    pub fn with_repo<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        self.with_handle(|handle| f(&handle.repo))
    }

    /// Runs `f` with a handle for this thread: the one it used last if idle, else any idle one,
    /// else a new one.
    fn with_handle<T>(&self, f: impl FnOnce(&mut Handle) -> T) -> T {
        let me = thread::current().id();
        let idle = self.handles.lock().ok().and_then(|mut handles| {
            let mine = handles.iter().rposition(|h| h.last_thread == me);
            let at = mine.or_else(|| handles.len().checked_sub(1))?;
            Some(handles.swap_remove(at))
        });
        let mut handle = idle.unwrap_or_else(|| {
            let mut repo = self.shared.to_thread_local();
            set_caches(&mut repo, self.caches);
            Handle {
                last_thread: me,
                repo,
                buffer: Vec::new(),
            }
        });
        let value = f(&mut handle);
        handle.last_thread = me;
        if handle.buffer.capacity() > BUFFER_KEPT_BYTES {
            handle.buffer = Vec::new();
        }
        if let Ok(mut handles) = self.handles.lock() {
            handles.push(handle);
        }
        value
    }

    /// The bytes of blob `id` (at `path`, for the report), unless too large or missing.
    pub fn read_blob(&self, path: &str, id: ObjectId) -> Option<Vec<u8>> {
        self.with_repo(|repo| read_blob(repo, id))
            .map_err(|reason| self.skip(path, &reason))
            .ok()
    }

    /// Runs `f` on the bytes of blob `id` (at `path`, for the report), decoded into this thread's
    /// buffer; `false` when too large or missing.
    pub fn inspect_blob(&self, path: &str, id: ObjectId, f: &mut dyn FnMut(&[u8])) -> bool {
        let read = self.with_handle(|handle| {
            let Handle { repo, buffer, .. } = handle;
            check_size(repo, id)?;
            match repo.objects.try_find(&id, buffer) {
                Ok(Some(object)) => {
                    f(object.data);
                    Ok(())
                }
                _ => Err(MISSING.to_owned()),
            }
        });
        read.map_err(|reason| self.skip(path, &reason)).is_ok()
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

/// A handle on the repository, with its thread's decoding buffer.
struct Handle {
    /// The thread that used it last (its caches hold what that thread read).
    last_thread: ThreadId,
    repo: gix::Repository,
    /// Blobs are decoded here, then looked at in place ([`GitTree::inspect_blob`]): no allocation,
    /// zeroing or page faults per file.
    buffer: Vec<u8>,
}

/// A handle's buffer is given back to the allocator past this size (after an unusually large file).
const BUFFER_KEPT_BYTES: usize = 1024 * 1024;

const MISSING: &str = "blob missing from the object database";

/// Gives `repo` exactly `caches`, whatever its configuration or environment says
/// (`core.deltaBaseCacheLimit`, `GIX_PACK_CACHE_MEMORY`, ...): a scan's memory does not depend on
/// the repository it reads.
fn set_caches(repo: &mut gix::Repository, caches: Caches) {
    match caches.pack_bytes {
        0 => repo.objects.unset_pack_cache(),
        bytes => repo.objects.set_pack_cache(move || {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(bytes))
        }),
    }
    repo.object_cache_size(caches.object_bytes);
}

impl Tree for GitTree {
    fn paths(&self) -> Vec<String> {
        self.entries.iter().map(|(path, _)| path.clone()).collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let id = self.blob(path)?;
        self.read_blob(path, id)
    }

    fn inspect(&self, path: &str, f: &mut dyn FnMut(&[u8])) -> bool {
        self.blob(path)
            .is_some_and(|id| self.inspect_blob(path, id, f))
    }

    fn gitlinks(&self) -> Vec<Gitlink> {
        self.gitlinks.clone()
    }
}

/// The bytes of blob `id`, or why it cannot be read: 4 MiB or more, or missing (a partial clone).
pub fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>, String> {
    check_size(repo, id)?;
    repo.find_object(id)
        .map(|object| object.detach().data)
        .map_err(|_| MISSING.to_owned())
}

/// Whether blob `id` is there and under [`MAX_BLOB_BYTES`], from its header (its bytes undecoded).
fn check_size(repo: &gix::Repository, id: ObjectId) -> Result<(), String> {
    match repo.find_header(id) {
        Ok(header) if header.size() >= MAX_BLOB_BYTES => {
            Err(format!("{} bytes, over the 4 MiB limit", header.size()))
        }
        Ok(_) => Ok(()),
        Err(_) => Err(MISSING.to_owned()),
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
