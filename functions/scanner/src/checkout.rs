//! A repository with its submodules mounted: each submodule's own tree, at the commit its gitlink
//! pins, appears under the submodule's path, so detection sees one tree and a submodule's root
//! project takes the place of its `git-submodule` entry. Nested submodules mount the same way. A
//! submodule that cannot be fetched stays a `git-submodule` project with the reason as a problem.

use std::path::PathBuf;

use crate::{
    detect::{Gitlink, Project, SUBMODULE, Tree},
    git::GitTree,
};

/// How deep submodules of submodules are followed.
const MAX_DEPTH: usize = 8;

/// Where a submodule's objects can be read: given its resolved URL, its `.gitmodules` name and the
/// pinned commit, a repository path holding that commit (a mirror fetched on demand, or a local
/// `.git/modules/<name>`).
pub type Fetch<'a> = dyn Fn(&str, &str, &str) -> anyhow::Result<PathBuf> + 'a;

/// A tree with mounted submodules.
pub struct Checkout {
    root: GitTree,
    mounts: Vec<(String, Checkout)>,
    problems: Vec<(String, String)>,
}

impl Checkout {
    /// `root` alone.
    pub fn flat(root: GitTree) -> Self {
        Self {
            root,
            mounts: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// `root` (fetched from `url`) with every submodule mounted, recursively.
    pub fn recursive(root: GitTree, url: &str, fetch: &Fetch<'_>) -> Self {
        Self::mount(root, url, fetch, 0)
    }

    fn mount(root: GitTree, url: &str, fetch: &Fetch<'_>, depth: usize) -> Self {
        let mut checkout = Self::flat(root);
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
            if depth >= MAX_DEPTH {
                checkout
                    .problems
                    .push((path, format!("submodules nested over {MAX_DEPTH} deep")));
                continue;
            }
            let resolved = resolve_url(url, &sub_url);
            let opened = fetch(&resolved, name.as_deref().unwrap_or(&path), &commit)
                .and_then(|repo| GitTree::open(&repo, Some(&commit)));
            match opened {
                Ok(tree) => {
                    let sub = Self::mount(tree, &resolved, fetch, depth + 1);
                    checkout.mounts.push((path, sub));
                }
                Err(error) => checkout
                    .problems
                    .push((path, format!("submodule not scanned: {error:#}"))),
            }
        }
        checkout
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
                .find(|p| p.path == path && p.kind == SUBMODULE)
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
