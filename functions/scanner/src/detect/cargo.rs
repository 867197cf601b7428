//! Cargo: `Cargo.toml` packages and workspaces (`members` globs, `exclude`, virtual roots,
//! `version.workspace = true` resolved from `[workspace.package]`, and path dependencies, which
//! Cargo makes members of the workspace they are in).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Detector, Found, Tree, Workspace, join, normalize, read_toml};

/// The Cargo detector.
pub struct Cargo;

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
    workspace: Option<WorkspaceTable>,
    #[serde(flatten)]
    dependencies: Dependencies,
    #[serde(default)]
    target: BTreeMap<String, Dependencies>,
}

/// The dependency tables of a manifest or of one `[target.…]`.
#[derive(Deserialize, Default)]
struct Dependencies {
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
    #[serde(default, rename = "dev-dependencies")]
    dev: BTreeMap<String, Dependency>,
    #[serde(default, rename = "build-dependencies")]
    build: BTreeMap<String, Dependency>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Dependency {
    Detailed { path: Option<String> },
    Other(serde::de::IgnoredAny),
}

impl Dependencies {
    fn paths(&self) -> impl Iterator<Item = &str> {
        [&self.dependencies, &self.dev, &self.build]
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter_map(|d| match d {
                Dependency::Detailed { path } => path.as_deref(),
                Dependency::Other(_) => None,
            })
    }
}

#[derive(Deserialize)]
struct Package {
    name: Option<String>,
    version: Option<Inheritable>,
    description: Option<Inheritable>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Inheritable {
    Literal(String),
    Workspace { workspace: bool },
}

#[derive(Deserialize, Default)]
struct WorkspaceTable {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    package: Option<WorkspacePackage>,
}

#[derive(Deserialize)]
struct WorkspacePackage {
    version: Option<String>,
}

impl Detector for Cargo {
    fn kind(&self) -> &'static str {
        "cargo"
    }

    fn reads(&self, file: &str) -> bool {
        file == "Cargo.toml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"Cargo.toml") {
            return None;
        }
        let path = join(dir, "Cargo.toml");
        let mut found = Found::from_manifest(&path);
        let Some(manifest) = read_toml::<Manifest>(tree, &path, &mut found) else {
            return Some(found);
        };
        if let Some(package) = manifest.package {
            found.name = package.name;
            match package.version {
                Some(Inheritable::Literal(version)) => found.version = Some(version),
                Some(Inheritable::Workspace { workspace }) => {
                    found.version_from_workspace = workspace
                }
                None => {}
            }
            if let Some(Inheritable::Literal(description)) = package.description {
                found.description = Some(description);
            }
        }
        found.path_dependencies = manifest
            .dependencies
            .paths()
            .chain(manifest.target.values().flat_map(Dependencies::paths))
            .filter_map(|relative| normalize(dir, relative))
            .collect();
        if let Some(workspace) = manifest.workspace {
            found.workspace = Some(Workspace {
                members: workspace.members,
                exclude: workspace.exclude,
                version: workspace.package.and_then(|p| p.version),
            });
        }
        Some(found)
    }
}
