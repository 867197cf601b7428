//! Project detection: a chain of [`Detector`]s, one per ecosystem (adding one is one file), run over
//! every directory of a tree, whose findings become [`Project`]s with their hierarchy: `parent_path`
//! (nearest ancestor directory holding a project) and `member_of` (the workspace that declares it).
//! A directory is one project however many ecosystems are found there: its `types` list them all,
//! strongest first ([`precedence`]), and the strongest finding that states a name, version or
//! description gives it (a task list's front matter only when no manifest does).
//!
//! Detectors read manifests with real parsers (TOML, JSON, YAML), never regular expressions.

mod backstage;
mod cargo;
mod cmake;
mod composer;
mod dart;
mod dotnet;
mod generic;
mod go;
mod gradle;
mod helm;
pub mod lexer;
mod maven;
mod mix;
mod npm;
mod python;
mod ruby;
pub mod rules;
mod swift;
mod tasklist;

use std::{
    collections::{BTreeMap, HashMap},
    sync::atomic::{AtomicUsize, Ordering},
};

use globset::GlobBuilder;
use serde::Serialize;

pub use rules::ScanRules;

/// A submodule entry of a tree: a gitlink with what `.gitmodules` says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gitlink {
    /// Where it sits in the tree.
    pub path: String,
    /// The commit it pins.
    pub commit: String,
    /// Its name in `.gitmodules`.
    pub name: Option<String>,
    /// Its URL in `.gitmodules`, as written (possibly relative).
    pub url: Option<String>,
}

/// Files of a repository at one commit (a git tree, or a map in tests).
pub trait Tree: Sync {
    /// Every file path, `/`-separated, relative to the root.
    fn paths(&self) -> Vec<String>;
    /// A file's bytes; `None` when it is missing or too large to read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Runs `f` on a file's bytes without handing them over (a reader may reuse its buffer);
    /// `false`, without calling `f`, when it is missing or too large to read.
    fn inspect(&self, path: &str, f: &mut dyn FnMut(&[u8])) -> bool {
        self.read(path).map(|bytes| f(&bytes)).is_some()
    }
    /// A file as text (invalid UTF-8 replaced); empty when it cannot be read.
    fn text(&self, path: &str) -> String {
        String::from_utf8_lossy(&self.read(path).unwrap_or_default()).into_owned()
    }
    /// The submodules of the tree (of mounted submodules too, prefixed).
    fn gitlinks(&self) -> Vec<Gitlink> {
        Vec::new()
    }
    /// Whether the submodule at `path` is mounted: its own files are part of this tree.
    fn mounted(&self, _path: &str) -> bool {
        false
    }
}

/// A tree held in memory.
#[derive(Debug, Default, Clone)]
pub struct MemTree(pub BTreeMap<String, Vec<u8>>);

impl MemTree {
    /// A tree of `(path, contents)` pairs.
    pub fn of(files: &[(&str, &str)]) -> Self {
        Self(
            files
                .iter()
                .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
                .collect(),
        )
    }
}

impl Tree for MemTree {
    fn paths(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).cloned()
    }
}

/// A project (one directory), as the output contract describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// Its directory, `""` for the root.
    pub path: String,
    /// Its primary ecosystem, the first of `types`: `cargo`, `npm`, `tasklist`, …
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Every ecosystem found in its directory, strongest first ([`precedence`]).
    pub types: Vec<&'static str>,
    /// The strongest manifest's own name (a task list's front matter after every manifest); `None`
    /// for virtual workspace roots and nameless manifests.
    pub name: Option<String>,
    /// The literal version, inherited values resolved; `None` when dynamic or absent.
    pub version: Option<String>,
    /// The strongest manifest's description (likewise).
    pub description: Option<String>,
    /// The manifest files it was found from, those of its primary ecosystem first.
    pub manifests: Vec<String>,
    /// The nearest strict ancestor directory holding any project.
    pub parent_path: Option<String>,
    /// The directory of the manifest that declares it a workspace member.
    pub member_of: Option<String>,
    /// `example`, `test`, `benchmark`, `template`.
    pub tags: Vec<String>,
    /// What went wrong reading its manifests (reported, never fatal).
    pub problems: Vec<String>,
    /// A submodule's URL (as `.gitmodules` writes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A submodule's pinned commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Lines with the word TODO in its text files (not those of nested projects).
    pub todo_count: u32,
    /// Lines with the word FIXME, likewise.
    pub fixme_count: u32,
}

impl Project {
    /// Whether an ecosystem was found in its directory.
    pub fn has_type(&self, kind: &str) -> bool {
        self.types.contains(&kind)
    }

    /// Its task list file (`tasklist.md`), when it has one.
    pub fn task_list(&self) -> Option<&str> {
        self.manifests
            .iter()
            .map(String::as_str)
            .find(|m| crate::tasklist::FILE_NAMES.contains(&m.rsplit('/').next().unwrap_or(m)))
    }
}

/// What a detector found in one directory.
#[derive(Debug, Default)]
pub struct Found {
    /// `name`, `version`, `description` as the manifest states them.
    pub name: Option<String>,
    /// The literal version.
    pub version: Option<String>,
    /// Whether the version is inherited from the workspace (`version.workspace = true`).
    pub version_from_workspace: bool,
    /// The description.
    pub description: Option<String>,
    /// The manifest files read.
    pub manifests: Vec<String>,
    /// When this directory declares a workspace: its member globs, exclusions, shared version.
    pub workspace: Option<Workspace>,
    /// Parse problems.
    pub problems: Vec<String>,
    /// A weak manifest (requirements*.txt, a bare Makefile): a project only where no ancestor
    /// directory holds one.
    pub weak: bool,
    /// Directories (repository-relative) of its path dependencies: members of its workspace too
    /// when inside it (Cargo's implicit members).
    pub path_dependencies: Vec<String>,
    /// A submodule's URL and pinned commit.
    pub url: Option<String>,
    /// The pinned commit.
    pub commit: Option<String>,
}

impl Found {
    /// A finding read from the manifest at `path`, nothing known yet.
    fn from_manifest(path: &str) -> Self {
        Self {
            manifests: vec![path.to_owned()],
            ..Self::default()
        }
    }
}

/// A workspace declaration.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    /// Member globs, relative to the workspace's directory.
    pub members: Vec<String>,
    /// Excluded globs.
    pub exclude: Vec<String>,
    /// `[workspace.package] version`, for members that inherit it.
    pub version: Option<String>,
}

/// One ecosystem's detection.
pub trait Detector: Send + Sync {
    /// The project type it reports.
    fn kind(&self) -> &'static str;
    /// Whether a file of this name is one of its manifests (a change to it calls for detection).
    fn reads(&self, file: &str) -> bool;
    /// Looks at directory `dir` (whose files are `files`, names only) and reads what it needs.
    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found>;
}

/// Every detector, strongest first: the order of a project's `types` ([`precedence`]).
pub fn detectors() -> &'static [Box<dyn Detector>] {
    static DETECTORS: std::sync::LazyLock<Vec<Box<dyn Detector>>> =
        std::sync::LazyLock::new(|| {
            vec![
                Box::new(cargo::Cargo),
                Box::new(npm::Npm),
                Box::new(python::Python),
                Box::new(go::Go),
                Box::new(maven::Maven),
                Box::new(gradle::Gradle),
                Box::new(dotnet::DotNet),
                Box::new(composer::Composer),
                Box::new(ruby::Ruby),
                Box::new(mix::Mix),
                Box::new(dart::Dart),
                Box::new(swift::Swift),
                Box::new(cmake::CMake),
                Box::new(helm::Helm),
                Box::new(backstage::Backstage),
                Box::new(tasklist::TaskListDetector),
                Box::new(generic::Generic),
            ]
        });
    &DETECTORS
}

/// The project type of submodules.
pub const SUBMODULE: &str = "git-submodule";

/// The rank of an ecosystem among those found in one directory, strongest (the primary `type`)
/// first: build manifests in [`detectors`] order (`cargo`, `npm`, `python`, `go`, `maven`, `gradle`,
/// `dotnet`, `composer`, `gem`, `mix`, `dart`, `swift`, `cmake`, `helm`), then the `backstage`
/// descriptor, our `tasklist`, the weak `generic` fallback and last `git-submodule`.
pub fn precedence(kind: &str) -> usize {
    detectors()
        .iter()
        .position(|d| d.kind() == kind)
        .unwrap_or(detectors().len())
}

/// Whether a change to the file at `path` can change what detection finds (any detector's manifest,
/// `.gitmodules`, our configuration file).
pub fn is_manifest(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    file == ".gitmodules" || file == rules::CONFIG_FILE || detectors().iter().any(|d| d.reads(file))
}

/// The projects of `tree`, one per directory, sorted by path, under the repository's own rules
/// ([`ScanRules::for_tree`]).
pub fn detect(tree: &dyn Tree) -> Vec<Project> {
    detect_counting(tree, &AtomicUsize::new(0))
}

/// [`detect`], adding one to `files_read` for every file read for TODO/FIXME counts (a progress
/// bar watches it from another thread).
pub fn detect_counting(tree: &dyn Tree, files_read: &AtomicUsize) -> Vec<Project> {
    let (rules, problem) = ScanRules::for_tree(tree);
    let mut projects = detect_manifests(tree, &rules);
    count_markers(tree, &rules, &mut projects, files_read);
    if let Some(problem) = problem {
        for project in projects.iter_mut().filter(|p| p.path.is_empty()) {
            project.problems.push(problem.clone());
        }
    }
    projects
}

/// The projects of `tree` without TODO/FIXME counts: only manifests are read.
pub fn detect_manifests(tree: &dyn Tree, rules: &ScanRules) -> Vec<Project> {
    let detectors = detectors();
    let mut dirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in tree.paths() {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        // Few files are manifests: the directory is looked at only for those.
        if !detectors.iter().any(|d| d.reads(file)) || rules.skips(dir) {
            continue;
        }
        dirs.entry(dir.to_owned())
            .or_default()
            .push(file.to_owned());
    }
    let dirs: Vec<(String, Vec<String>)> = dirs.into_iter().collect();
    // Directories are detected on every core; the findings keep the directories' order.
    let mut found: Vec<(String, &'static str, Found)> = parallel_map(&dirs, |(dir, files)| {
        let names: Vec<&str> = files.iter().map(String::as_str).collect();
        detectors
            .iter()
            .filter_map(|detector| {
                let f = detector.detect(dir, &names, tree)?;
                Some((dir.clone(), detector.kind(), f))
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    for link in tree.gitlinks() {
        let dir = link.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        if rules.skips(dir)
            || tree.mounted(&link.path) && found.iter().any(|(d, _, _)| *d == link.path)
        {
            continue;
        }
        let mut problems = Vec::new();
        if link.url.is_none() {
            problems.push(format!("{}: no entry in .gitmodules", link.path));
        }
        found.push((
            link.path.clone(),
            SUBMODULE,
            Found {
                name: link.name.clone().or_else(|| Some(link.path.clone())),
                manifests: vec![".gitmodules".to_owned()],
                problems,
                url: link.url.clone(),
                commit: Some(link.commit.clone()),
                ..Found::default()
            },
        ));
    }
    assemble(found, rules)
}

/// TODO and FIXME lines of one file: `None` for a binary file (a NUL in its first 8000 bytes). A
/// line counts once for each word however often it has it.
pub fn count_lines(bytes: &[u8]) -> Option<(u32, u32)> {
    static MARKER: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"\b(TODO|FIXME)\b").expect("a valid pattern")
    });
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return None;
    }
    let (mut todo, mut fixme) = (0, 0);
    let (mut todo_line, mut fixme_line, mut line, mut scanned) = (None, None, 0_usize, 0_usize);
    for found in MARKER.find_iter(bytes) {
        line += bytes[scanned..found.start()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        scanned = found.start();
        let (last, count) = if found.as_bytes() == b"TODO" {
            (&mut todo_line, &mut todo)
        } else {
            (&mut fixme_line, &mut fixme)
        };
        if *last != Some(line) {
            *last = Some(line);
            *count += 1;
        }
    }
    Some((todo, fixme))
}

/// The project directory whose counts the file at `path` adds to: the deepest of `owners` (sorted
/// longest first) holding it; `None` outside every project or in a skipped directory.
pub fn owner_of<'a>(path: &str, owners: &'a [String], rules: &ScanRules) -> Option<&'a String> {
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    if rules.skips(dir) {
        return None;
    }
    owners
        .iter()
        .find(|o| o.as_str() == dir || is_strict_ancestor(o, dir))
}

/// Project directories, deepest first and without repeats, as [`owner_of`] wants them.
pub fn owners(paths: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut owners: Vec<String> = paths.into_iter().collect();
    owners.sort();
    owners.dedup();
    owners.sort_by_key(|p| std::cmp::Reverse(p.len()));
    owners
}

/// Counts TODO and FIXME lines per project: every text file counts for the deepest project directory
/// above it ([`owner_of`]). The files are read on every core.
pub fn count_markers(
    tree: &dyn Tree,
    rules: &ScanRules,
    projects: &mut [Project],
    files_read: &AtomicUsize,
) {
    let owners = owners(projects.iter().map(|p| p.path.clone()));
    let by_dir: HashMap<&str, &String> = owners.iter().map(|o| (o.as_str(), o)).collect();
    let paths = tree.paths();
    let mut files: Vec<(&String, &String)> = Vec::with_capacity(paths.len());
    // Paths come directory by directory: each directory's owner is looked up once.
    let mut last: Option<(&str, Option<&String>)> = None;
    for path in &paths {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let owner = match last {
            Some((last_dir, owner)) if last_dir == dir => owner,
            _ => {
                let owner = deepest_owner(dir, &by_dir, rules);
                last = Some((dir, owner));
                owner
            }
        };
        if let Some(owner) = owner {
            files.push((path, owner));
        }
    }
    let per_file = parallel_map(&files, |(path, owner)| {
        files_read.fetch_add(1, Ordering::Relaxed);
        let mut counts = None;
        tree.inspect(path, &mut |bytes| counts = count_lines(bytes));
        Some((*owner, counts?))
    });
    let mut counts: BTreeMap<&String, (u32, u32)> = BTreeMap::new();
    for (owner, (todo, fixme)) in per_file.into_iter().flatten() {
        let entry = counts.entry(owner).or_default();
        entry.0 += todo;
        entry.1 += fixme;
    }
    for project in projects {
        let (todo, fixme) = counts.get(&project.path).copied().unwrap_or_default();
        project.todo_count = todo;
        project.fixme_count = fixme;
    }
}

/// [`owner_of`] for every file of directory `dir`, walking up from it through `owners` by
/// directory: a few lookups per directory instead of a comparison with every project.
fn deepest_owner<'a>(
    dir: &str,
    owners: &HashMap<&str, &'a String>,
    rules: &ScanRules,
) -> Option<&'a String> {
    if rules.skips(dir) {
        return None;
    }
    let mut at = dir;
    loop {
        if let Some(owner) = owners.get(at) {
            return Some(owner);
        }
        if at.is_empty() {
            return None;
        }
        at = at.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

/// `f` of every item, in order, computed on every core: each thread takes the next item as it
/// finishes one (files differ in size by orders of magnitude, so equal shares would not be equal
/// work).
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return done;
                        };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread never panics"))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Resolves membership (declared and implicit), inherited versions, parents and tags.
fn assemble(mut found: Vec<(String, &'static str, Found)>, rules: &ScanRules) -> Vec<Project> {
    let strong: Vec<String> = found
        .iter()
        .filter(|(_, _, f)| !f.weak)
        .map(|(dir, _, _)| dir.clone())
        .collect();
    // Shallowest first, so that a weak project shadows weak manifests below it.
    found.sort_by_key(|(dir, _, _)| dir.matches('/').count() + usize::from(!dir.is_empty()));
    let mut kept_weak: Vec<String> = Vec::new();
    found.retain(|(dir, _, f)| {
        if !f.weak {
            return true;
        }
        let shadowed = strong
            .iter()
            .any(|s| s == dir || is_strict_ancestor(s, dir))
            || kept_weak.iter().any(|w| is_strict_ancestor(w, dir));
        if !shadowed {
            kept_weak.push(dir.clone());
        }
        !shadowed
    });
    // Which workspace (an index into `found`) declares each finding a member.
    let mut member_of: Vec<Option<usize>> = found
        .iter()
        .map(|(path, kind, _)| {
            found
                .iter()
                .enumerate()
                .filter(|(_, (root, k, f))| {
                    k == kind
                        && root != path
                        && f.workspace
                            .as_ref()
                            .is_some_and(|w| declares(root, w, path))
                })
                .max_by_key(|(_, (root, _, _))| root.len())
                .map(|(i, _)| i)
        })
        .collect();
    // Path dependencies of a workspace's packages inside it are members too, transitively.
    loop {
        let mut joined = false;
        for i in 0..found.len() {
            let workspace = match member_of[i] {
                Some(w) => w,
                None if found[i].2.workspace.is_some() => i,
                None => continue,
            };
            let (root, kind, f) = &found[workspace];
            let Some(w) = &f.workspace else { continue };
            for dependency in found[i].2.path_dependencies.clone() {
                let Some(j) = found
                    .iter()
                    .position(|(dir, k, _)| *dir == dependency && k == kind)
                else {
                    continue;
                };
                let inside = is_strict_ancestor(root, &dependency);
                if j != workspace
                    && member_of[j].is_none()
                    && inside
                    && !excluded(root, w, &dependency)
                {
                    member_of[j] = Some(workspace);
                    joined = true;
                }
            }
        }
        if !joined {
            break;
        }
    }
    let dirs: Vec<String> = found.iter().map(|(dir, _, _)| dir.clone()).collect();
    let workspaces: Vec<(String, Option<String>)> = found
        .iter()
        .map(|(dir, _, f)| {
            (
                dir.clone(),
                f.workspace.as_ref().and_then(|w| w.version.clone()),
            )
        })
        .collect();
    // The findings of one directory become one project, strongest first.
    let mut findings: Vec<_> = found.into_iter().zip(member_of).collect();
    findings.sort_by(|((a, a_kind, _), _), ((b, b_kind, _), _)| {
        (a, precedence(a_kind)).cmp(&(b, precedence(b_kind)))
    });
    let mut projects: Vec<Project> = Vec::new();
    for ((path, kind, f), member_of) in findings {
        let workspace = member_of.map(|w| &workspaces[w]);
        let version = match (workspace, f.version_from_workspace) {
            (Some((_, inherited)), true) => inherited.clone(),
            _ => f.version,
        };
        let member_of = workspace.map(|(root, _)| root.clone());
        match projects.last_mut() {
            Some(project) if project.path == path => {
                project.types.push(kind);
                project.name = project.name.take().or(f.name);
                project.version = project.version.take().or(version);
                project.description = project.description.take().or(f.description);
                for manifest in f.manifests {
                    if !project.manifests.contains(&manifest) {
                        project.manifests.push(manifest);
                    }
                }
                project.member_of = project.member_of.take().or(member_of);
                project.problems.extend(f.problems);
                project.url = project.url.take().or(f.url);
                project.commit = project.commit.take().or(f.commit);
            }
            _ => {
                let parent_path = dirs
                    .iter()
                    .filter(|d| is_strict_ancestor(d, &path))
                    .max_by_key(|d| d.len())
                    .cloned();
                let tags = rules.tags(&path);
                projects.push(Project {
                    path,
                    kind,
                    types: vec![kind],
                    name: f.name,
                    version,
                    description: f.description,
                    manifests: f.manifests,
                    parent_path,
                    member_of,
                    tags,
                    problems: f.problems,
                    url: f.url,
                    commit: f.commit,
                    todo_count: 0,
                    fixme_count: 0,
                });
            }
        }
    }
    projects
}

/// Whether workspace `w` at `root` lists `path` as a member (and does not exclude it).
fn declares(root: &str, w: &Workspace, path: &str) -> bool {
    relative_to(root, path).is_some_and(|relative| matches_any(&w.members, relative))
        && !excluded(root, w, path)
}

fn excluded(root: &str, w: &Workspace, path: &str) -> bool {
    relative_to(root, path).is_some_and(|relative| matches_any(&w.exclude, relative))
}

fn matches_any(globs: &[String], relative: &str) -> bool {
    globs.iter().any(|g| {
        let g = g.trim_start_matches("./").trim_end_matches('/');
        GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .is_ok_and(|glob| glob.compile_matcher().is_match(relative))
    })
}

fn relative_to<'a>(root: &str, path: &'a str) -> Option<&'a str> {
    if root.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(root)?.strip_prefix('/')
    }
}

fn is_strict_ancestor(dir: &str, path: &str) -> bool {
    dir != path && (dir.is_empty() || relative_to(dir, path).is_some())
}

/// `relative` (with `.` and `..` segments) from directory `base`, as a repository path; `None` when
/// it leaves the repository.
pub fn normalize(base: &str, relative: &str) -> Option<String> {
    let mut segments: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

/// Reads and parses a YAML manifest; a parse error becomes one of `found`'s problems.
fn read_yaml<T: serde::de::DeserializeOwned>(
    tree: &dyn Tree,
    path: &str,
    found: &mut Found,
) -> Option<T> {
    parse_into(found, path, serde_saphyr::from_str(&tree.text(path)))
}

/// Reads and parses a TOML manifest; a parse error becomes one of `found`'s problems.
fn read_toml<T: serde::de::DeserializeOwned>(
    tree: &dyn Tree,
    path: &str,
    found: &mut Found,
) -> Option<T> {
    parse_into(
        found,
        path,
        toml::from_str(&tree.text(path)).map_err(|e| e.message().to_owned()),
    )
}

/// The parsed value, or `None` with the error recorded as a problem of `path`.
fn parse_into<T>(
    found: &mut Found,
    path: &str,
    parsed: Result<T, impl std::fmt::Display>,
) -> Option<T> {
    parsed
        .map_err(|error| found.problems.push(format!("{path}: {error}")))
        .ok()
}

/// The path of `file` in `dir`.
fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

#[cfg(test)]
mod tests;
