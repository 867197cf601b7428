//! Which directories a scan walks and which it tags: defaults merged with the repository's own
//! `.dashboard.toml` (see `docs/scanning.md`):
//!
//! ```toml
//! [scan]
//! skip = ["generated", "!build"]   # also skip `generated`; walk `build` after all
//! [scan.tags]
//! samples = "example"              # projects under `samples/` are tagged `example`
//! test = ""                        # and those under `test/` are not tagged
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Tree;

/// The configuration file, at the repository's root.
pub const CONFIG_FILE: &str = ".dashboard.toml";

/// Directories never walked by default: vendored and generated trees.
pub const SKIPPED_DIRS: [&str; 13] = [
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
    ".gradle",
];

/// Directory names that tag the projects under them by default.
pub const TAGGED_DIRS: [(&str, &str); 11] = [
    ("examples", "example"),
    ("example", "example"),
    ("samples", "example"),
    ("tests", "test"),
    ("test", "test"),
    ("fixtures", "test"),
    ("testdata", "test"),
    ("benches", "benchmark"),
    ("benchmarks", "benchmark"),
    ("templates", "template"),
    ("template", "template"),
];

/// The rules of one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRules {
    skip: BTreeSet<String>,
    tags: BTreeMap<String, String>,
}

impl Default for ScanRules {
    fn default() -> Self {
        Self {
            skip: SKIPPED_DIRS.iter().map(|d| (*d).to_owned()).collect(),
            tags: TAGGED_DIRS
                .iter()
                .map(|(d, t)| ((*d).to_owned(), (*t).to_owned()))
                .collect(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    scan: ScanConfig,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScanConfig {
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

impl ScanRules {
    /// The defaults merged with `tree`'s `.dashboard.toml`; a malformed file is reported (second
    /// value) and the defaults apply.
    pub fn for_tree(tree: &dyn Tree) -> (Self, Option<String>) {
        Self::from_config(tree.read(CONFIG_FILE).as_deref())
    }

    /// The defaults merged with the contents of a `.dashboard.toml` (`None`: there is none).
    pub fn from_config(config: Option<&[u8]>) -> (Self, Option<String>) {
        let mut rules = Self::default();
        let Some(bytes) = config else {
            return (rules, None);
        };
        let config: Config = match toml::from_str(&String::from_utf8_lossy(bytes)) {
            Ok(config) => config,
            Err(error) => return (rules, Some(format!("{CONFIG_FILE}: {}", error.message()))),
        };
        for entry in config.scan.skip {
            match entry.strip_prefix('!') {
                Some(walked) => rules.skip.remove(walked),
                None => rules.skip.insert(entry),
            };
        }
        for (dir, tag) in config.scan.tags {
            if tag.is_empty() {
                rules.tags.remove(&dir);
            } else {
                rules.tags.insert(dir, tag);
            }
        }
        (rules, None)
    }

    /// Whether directory `dir` (or one above it) is skipped.
    pub fn skips(&self, dir: &str) -> bool {
        dir.split('/').any(|segment| self.skip.contains(segment))
    }

    /// The tags of a project at `path`, in path order, without repeats.
    pub fn tags(&self, path: &str) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in path.split('/').filter_map(|segment| self.tags.get(segment)) {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        tags
    }
}
