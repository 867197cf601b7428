//! A repository with its submodules mounted: each submodule's own tree, at the commit its gitlink
//! pins, appears under the submodule's path, so detection sees one tree and a submodule's root
//! project takes the place of its `git-submodule` entry. Nested submodules mount the same way. A
//! submodule that cannot be fetched stays a `git-submodule` project with the reason as a problem.
//!
//! A hostile repository cannot make a scan wander or fan out: a submodule is fetched only if the
//! remote policy allows its URL and it comes from the superproject's own source
//! ([`RemotePolicy::same_source`]: on Cloud Run its origin — scheme, host, port); each
//! (URL, commit) is fetched and opened once per scan; and a scan mounts at most [`MAX_MOUNTS`]
//! submodules, [`MAX_ENTRIES`] tree entries, [`MAX_DEPTH`] levels deep. What is refused or over a cap
//! is reported on the submodule's project.

use std::{
    collections::{HashMap, hash_map::Entry},
    path::PathBuf,
    sync::Arc,
};

use crate::{
    detect::{Gitlink, Project, SUBMODULE, Tree},
    git::GitTree,
    remote::RemotePolicy,
};

/// How deep submodules of submodules are followed.
pub const MAX_DEPTH: usize = 8;
/// How many submodules one scan mounts.
pub const MAX_MOUNTS: usize = 256;
/// How many tree entries (files) one scan mounts, the superproject's included.
pub const MAX_ENTRIES: usize = 2_000_000;

/// Where a submodule's objects can be read: given its resolved URL, its `.gitmodules` name and the
/// pinned commit, a repository path holding that commit (a mirror fetched on demand, or a local
/// `.git/modules/<name>`).
pub type Fetch<'a> = dyn Fn(&str, &str, &str) -> anyhow::Result<PathBuf> + 'a;

/// A tree with mounted submodules.
pub struct Checkout {
    root: Arc<GitTree>,
    mounts: Vec<(String, Checkout)>,
    problems: Vec<(String, String)>,
}

/// A submodule's tree and its number of entries, or why it could not be had.
type Opened = Result<(Arc<GitTree>, usize), String>;

/// One recursive mount's state: what was opened, and what is left of the caps.
struct Walk<'a, 'f> {
    policy: RemotePolicy,
    fetch: &'a Fetch<'f>,
    /// Per (URL, commit): the tree, or why it could not be had.
    opened: HashMap<(String, String), Opened>,
    mounts: usize,
    entries: usize,
}

impl Checkout {
    /// `root` alone.
    pub fn flat(root: GitTree) -> Self {
        Self::of(Arc::new(root))
    }

    fn of(root: Arc<GitTree>) -> Self {
        Self {
            root,
            mounts: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// `root` (fetched from `url`) with every submodule `policy` allows mounted, recursively,
    /// within the caps.
    pub fn recursive(root: GitTree, url: &str, policy: RemotePolicy, fetch: &Fetch<'_>) -> Self {
        let mut walk = Walk {
            policy,
            fetch,
            opened: HashMap::new(),
            mounts: 0,
            entries: root.paths().len(),
        };
        walk.mount(Arc::new(root), url, 0)
    }

    /// The commit of the root tree.
    pub fn commit(&self) -> String {
        self.root.commit.to_string()
    }

    /// Files that could not be read, in every mounted tree.
    pub fn skipped(&self) -> Vec<String> {
        let mut skipped = self.root.skipped();
        for (prefix, sub) in &self.mounts {
            skipped.extend(sub.skipped().into_iter().map(|s| format!("{prefix}/{s}")));
        }
        skipped
    }

    /// Records why submodules were not mounted on their `git-submodule` projects.
    pub fn report(&self, projects: &mut [Project]) {
        for (path, problem) in self.all_problems() {
            if let Some(project) = projects
                .iter_mut()
                .find(|p| p.path == path && p.has_type(SUBMODULE))
            {
                project.problems.push(problem);
            }
        }
    }

    fn all_problems(&self) -> Vec<(String, String)> {
        let mut problems = self.problems.clone();
        for (prefix, sub) in &self.mounts {
            problems.extend(
                sub.all_problems()
                    .into_iter()
                    .map(|(path, problem)| (format!("{prefix}/{path}"), problem)),
            );
        }
        problems
    }

    fn mount_of(&self, path: &str) -> Option<(&Checkout, usize)> {
        self.mounts.iter().find_map(|(prefix, sub)| {
            let rest = path.strip_prefix(prefix.as_str())?.strip_prefix('/')?;
            Some((sub, path.len() - rest.len()))
        })
    }
}

impl Walk<'_, '_> {
    fn mount(&mut self, root: Arc<GitTree>, url: &str, depth: usize) -> Checkout {
        let mut checkout = Checkout::of(root);
        for link in checkout.root.gitlinks() {
            let Gitlink {
                path,
                commit,
                name,
                url: Some(sub_url),
            } = link
            else {
                continue;
            };
            let name = name.as_deref().unwrap_or(&path);
            match self.submodule(url, &sub_url, name, &commit, depth) {
                Ok(sub) => checkout.mounts.push((path, sub)),
                Err(problem) => checkout.problems.push((path, problem)),
            }
        }
        checkout
    }

    /// The submodule at `sub_url` (as `.gitmodules` of the repository at `parent` says), mounted, or
    /// why not.
    fn submodule(
        &mut self,
        parent: &str,
        sub_url: &str,
        name: &str,
        commit: &str,
        depth: usize,
    ) -> Result<Checkout, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("submodules nested over {MAX_DEPTH} deep"));
        }
        if self.mounts >= MAX_MOUNTS {
            return Err(format!(
                "submodule not scanned: the scan's cap of {MAX_MOUNTS} submodules was reached"
            ));
        }
        let resolved = resolve_url(parent, sub_url);
        self.allowed(parent, &resolved)
            .map_err(|reason| format!("submodule not fetched: {reason}"))?;
        let (tree, entries) = self.open(&resolved, name, commit)?;
        if self.entries + entries > MAX_ENTRIES {
            return Err(format!(
                "submodule not scanned: the scan's cap of {MAX_ENTRIES} files was reached"
            ));
        }
        self.mounts += 1;
        self.entries += entries;
        Ok(self.mount(tree, &resolved, depth + 1))
    }

    /// Whether the policy allows `url`, and it is on the origin of the superproject at `parent`.
    fn allowed(&self, parent: &str, url: &str) -> Result<(), String> {
        let url = self.policy.check_url(url).map_err(|e| format!("{e:#}"))?;
        let parent = gix::Url::from_bytes(parent.into())
            .map_err(|_| "the superproject's URL cannot be read".to_owned())?;
        if !self.policy.same_source(&parent, &url) {
            return Err(format!(
                "{}://{} is not the repository's own host, {}://{}",
                url.scheme,
                url.host().unwrap_or(""),
                parent.scheme,
                parent.host().unwrap_or("")
            ));
        }
        Ok(())
    }

    /// The tree of `commit` from `url` and its number of entries: fetched and opened once per scan.
    fn open(&mut self, url: &str, name: &str, commit: &str) -> Opened {
        let key = (url.to_owned(), commit.to_owned());
        match self.opened.entry(key) {
            Entry::Occupied(entry) => entry.get().clone(),
            Entry::Vacant(entry) => {
                let opened = (self.fetch)(url, name, commit)
                    .and_then(|repo| GitTree::open(&repo, Some(commit)))
                    .map(|tree| {
                        let entries = tree.paths().len();
                        (Arc::new(tree), entries)
                    })
                    .map_err(|error| format!("submodule not scanned: {error:#}"));
                entry.insert(opened).clone()
            }
        }
    }
}

impl Tree for Checkout {
    fn paths(&self) -> Vec<String> {
        let mut paths = self.root.paths();
        for (prefix, sub) in &self.mounts {
            paths.extend(sub.paths().into_iter().map(|p| format!("{prefix}/{p}")));
        }
        paths
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.mount_of(path) {
            Some((sub, cut)) => sub.read(&path[cut..]),
            None => self.root.read(path),
        }
    }

    fn inspect(&self, path: &str, f: &mut dyn FnMut(&[u8])) -> bool {
        match self.mount_of(path) {
            Some((sub, cut)) => sub.inspect(&path[cut..], f),
            None => self.root.inspect(path, f),
        }
    }

    fn gitlinks(&self) -> Vec<Gitlink> {
        let mut links = self.root.gitlinks();
        for (prefix, sub) in &self.mounts {
            links.extend(sub.gitlinks().into_iter().map(|link| Gitlink {
                path: format!("{prefix}/{}", link.path),
                ..link
            }));
        }
        links
    }

    fn mounted(&self, path: &str) -> bool {
        self.mounts.iter().any(|(prefix, _)| prefix == path)
            || self
                .mount_of(path)
                .is_some_and(|(sub, cut)| sub.mounted(&path[cut..]))
    }
}

/// A submodule URL as git resolves it: relative ones (`./x`, `../x`) against the superproject's URL
/// taken as a directory; others as written.
pub fn resolve_url(base: &str, url: &str) -> String {
    if !url.starts_with("./") && !url.starts_with("../") {
        return url.to_owned();
    }
    let mut base = base.trim_end_matches('/').to_owned();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            if let Some(cut) = base.rfind(['/', ':']) {
                base.truncate(cut);
            }
        } else {
            break;
        }
    }
    format!("{base}/{rest}")
}

#[cfg(test)]
mod tests {
    use super::resolve_url;

    #[test]
    fn relative_submodule_urls_resolve_against_the_superproject() {
        assert_eq!(
            resolve_url("https://github.com/acme/master.git", "../lib.git"),
            "https://github.com/acme/lib.git"
        );
        assert_eq!(
            resolve_url("https://github.com/acme/master", "./sub"),
            "https://github.com/acme/master/sub"
        );
        assert_eq!(
            resolve_url("/srv/git/master.git", "../../other/lib.git"),
            "/srv/other/lib.git"
        );
        assert_eq!(
            resolve_url("/srv/git/master.git", "git://host/x.git"),
            "git://host/x.git"
        );
    }
}
