//! Project detection: a chain of [`Detector`]s, one per ecosystem (adding one is one file), run over
//! every directory of a tree, whose findings become [`Project`]s with their hierarchy: `parent_path`
//! (nearest ancestor directory holding a project) and `member_of` (the workspace that declares it).
//!
//! Detectors read manifests with real parsers (TOML, JSON, YAML), never regular expressions.

mod cargo;
mod go;
mod npm;
mod python;
mod tasklist;

use std::collections::BTreeMap;

use globset::GlobBuilder;
use serde::Serialize;

/// Directories never walked: vendored and generated trees.
pub const SKIPPED_DIRS: [&str; 12] = [
    "node_modules",
    "vendor",
    "third_party",
    "dist",
    "build",
    "target",
    ".venv",
    "venv",
    ".git",
    "__pycache__",
    ".tox",
    "bower_components",
];

/// Path segments that tag a project instead of dropping it.
const TAGGED_DIRS: [(&str, &str); 9] = [
    ("examples", "example"),
    ("example", "example"),
    ("tests", "test"),
    ("test", "test"),
    ("fixtures", "test"),
    ("benches", "benchmark"),
    ("benchmarks", "benchmark"),
    ("templates", "template"),
    ("template", "template"),
];

/// Files of a repository at one commit (a git tree, or a map in tests).
pub trait Tree {
    /// Every file path, `/`-separated, relative to the root.
    fn paths(&self) -> Vec<String>;
    /// A file's bytes; `None` when it is missing or too large to read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
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

/// A project, as the output contract describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// Its directory, `""` for the root.
    pub path: String,
    /// Its ecosystem: `cargo`, `npm`, `tasklist`, …
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The manifest's own name; `None` for virtual workspace roots and nameless manifests.
    pub name: Option<String>,
    /// The literal version, inherited values resolved; `None` when dynamic or absent.
    pub version: Option<String>,
    /// The manifest's description.
    pub description: Option<String>,
    /// The manifest files it was found from.
    pub manifests: Vec<String>,
    /// The nearest strict ancestor directory holding any project.
    pub parent_path: Option<String>,
    /// The directory of the manifest that declares it a workspace member.
    pub member_of: Option<String>,
    /// `example`, `test`, `benchmark`, `template`.
    pub tags: Vec<String>,
    /// What went wrong reading its manifests (reported, never fatal).
    pub problems: Vec<String>,
    /// Lines with the word TODO in its text files (not those of nested projects).
    pub todo_count: u32,
    /// Lines with the word FIXME, likewise.
    pub fixme_count: u32,
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
pub trait Detector: Sync {
    /// The project type it reports.
    fn kind(&self) -> &'static str;
    /// Looks at directory `dir` (whose files are `files`, names only) and reads what it needs.
    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found>;
}

/// Every detector, in the order their findings are listed.
pub fn detectors() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(cargo::Cargo),
        Box::new(npm::Npm),
        Box::new(python::Python),
        Box::new(go::Go),
        Box::new(tasklist::TaskListDetector),
    ]
}

/// The projects of `tree`, sorted by path then type.
pub fn detect(tree: &dyn Tree) -> Vec<Project> {
    let mut dirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in tree.paths() {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if dir
            .split('/')
            .any(|segment| SKIPPED_DIRS.contains(&segment))
        {
            continue;
        }
        dirs.entry(dir.to_owned())
            .or_default()
            .push(file.to_owned());
    }
    let detectors = detectors();
    let mut found: Vec<(String, &'static str, Found)> = Vec::new();
    for (dir, files) in &dirs {
        let names: Vec<&str> = files.iter().map(String::as_str).collect();
        for detector in &detectors {
            if let Some(f) = detector.detect(dir, &names, tree) {
                found.push((dir.clone(), detector.kind(), f));
            }
        }
    }
    let mut projects = assemble(found);
    count_markers(tree, &mut projects);
    projects
}

/// Counts TODO and FIXME lines per project: every text file (no NUL in its first 8000 bytes) counts
/// for the deepest project directory above it; files outside every project and in skipped
/// directories are not counted.
pub fn count_markers(tree: &dyn Tree, projects: &mut [Project]) {
    let marker = regex::bytes::Regex::new(r"\b(TODO|FIXME)\b").expect("a valid pattern");
    let mut owners: Vec<String> = projects.iter().map(|p| p.path.clone()).collect();
    owners.sort_by_key(|p| std::cmp::Reverse(p.len()));
    owners.dedup();
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for path in tree.paths() {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        if dir
            .split('/')
            .any(|segment| SKIPPED_DIRS.contains(&segment))
        {
            continue;
        }
        let Some(owner) = owners
            .iter()
            .find(|o| o.as_str() == dir || is_strict_ancestor(o, dir))
        else {
            continue;
        };
        let Some(bytes) = tree.read(&path) else {
            continue;
        };
        if bytes[..bytes.len().min(8000)].contains(&0) {
            continue;
        }
        let (mut todo_line, mut fixme_line, mut line, mut scanned) = (None, None, 0_usize, 0_usize);
        let entry = counts.entry(owner.clone()).or_default();
        for found in marker.find_iter(&bytes) {
            line += bytes[scanned..found.start()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            scanned = found.start();
            let (last, count) = if found.as_bytes() == b"TODO" {
                (&mut todo_line, &mut entry.0)
            } else {
                (&mut fixme_line, &mut entry.1)
            };
            if *last != Some(line) {
                *last = Some(line);
                *count += 1;
            }
        }
    }
    for project in projects {
        let (todo, fixme) = counts.get(&project.path).copied().unwrap_or_default();
        project.todo_count = todo;
        project.fixme_count = fixme;
    }
}

/// Resolves membership, inherited versions, parents and tags.
fn assemble(mut found: Vec<(String, &'static str, Found)>) -> Vec<Project> {
    let strong: Vec<String> = found
        .iter()
        .filter(|(_, _, f)| !f.weak)
        .map(|(dir, _, _)| dir.clone())
        .collect();
    found.retain(|(dir, _, f)| {
        !f.weak
            || !strong
                .iter()
                .any(|s| s == dir || is_strict_ancestor(s, dir))
    });
    let workspaces: Vec<(String, &'static str, Workspace)> = found
        .iter()
        .filter_map(|(dir, kind, f)| f.workspace.clone().map(|w| (dir.clone(), *kind, w)))
        .collect();
    let dirs: Vec<String> = found.iter().map(|(dir, _, _)| dir.clone()).collect();
    let mut projects: Vec<Project> = found
        .into_iter()
        .map(|(path, kind, f)| {
            let member_of = workspaces
                .iter()
                .filter(|(root, k, w)| *k == kind && *root != path && declares(root, w, &path))
                .max_by_key(|(root, _, _)| root.len())
                .map(|(root, _, w)| (root.clone(), w.version.clone()));
            let version = match (&member_of, f.version_from_workspace) {
                (Some((_, inherited)), true) => inherited.clone(),
                _ => f.version,
            };
            let parent_path = dirs
                .iter()
                .filter(|d| is_strict_ancestor(d, &path))
                .max_by_key(|d| d.len())
                .cloned();
            let tags = tags(&path);
            Project {
                path,
                kind,
                name: f.name,
                version,
                description: f.description,
                manifests: f.manifests,
                parent_path,
                member_of: member_of.map(|(root, _)| root),
                tags,
                problems: f.problems,
                todo_count: 0,
                fixme_count: 0,
            }
        })
        .collect();
    projects.sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    projects
}

/// Whether workspace `w` at `root` lists `path` as a member (and does not exclude it).
fn declares(root: &str, w: &Workspace, path: &str) -> bool {
    let Some(relative) = relative_to(root, path) else {
        return false;
    };
    let matches = |globs: &[String]| {
        globs.iter().any(|g| {
            let g = g.trim_start_matches("./").trim_end_matches('/');
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .is_ok_and(|glob| glob.compile_matcher().is_match(relative))
        })
    };
    matches(&w.members) && !matches(&w.exclude)
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

fn tags(path: &str) -> Vec<String> {
    let mut tags: Vec<String> = path
        .split('/')
        .filter_map(|segment| {
            TAGGED_DIRS
                .iter()
                .find(|(dir, _)| *dir == segment)
                .map(|(_, tag)| (*tag).to_owned())
        })
        .collect();
    tags.dedup();
    tags
}

/// Reads and parses a TOML manifest; a parse error becomes one of `found`'s problems.
fn read_toml<T: serde::de::DeserializeOwned>(
    tree: &dyn Tree,
    path: &str,
    found: &mut Found,
) -> Option<T> {
    let text = tree
        .read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    match toml::from_str(&text) {
        Ok(value) => Some(value),
        Err(error) => {
            found.problems.push(format!("{path}: {}", error.message()));
            None
        }
    }
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
