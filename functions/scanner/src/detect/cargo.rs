//! Cargo: `Cargo.toml` packages and workspaces (`members` globs, `exclude`, virtual roots,
//! `version.workspace = true` resolved from `[workspace.package]`).

use serde::Deserialize;

use super::{Detector, Found, Tree, Workspace, join, read_toml};

/// The Cargo detector.
pub struct Cargo;

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
    workspace: Option<WorkspaceTable>,
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

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"Cargo.toml") {
            return None;
        }
        let path = join(dir, "Cargo.toml");
        let mut found = Found {
            manifests: vec![path.clone()],
            ..Found::default()
        };
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
