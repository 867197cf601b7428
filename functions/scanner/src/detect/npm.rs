//! npm, Yarn, pnpm and Bun: `package.json` (`name`, `version`, `description`, `workspaces` as a list
//! or `{packages}`) merged with `pnpm-workspace.yaml` (`packages`, `!` exclusions) in one directory.

use serde::Deserialize;
use serde_json::Value;

use super::{Detector, Found, Tree, Workspace, join, read_yaml};

/// The npm-family detector.
pub struct Npm;

#[derive(Deserialize)]
struct PnpmWorkspace {
    #[serde(default)]
    packages: Vec<String>,
}

impl Detector for Npm {
    fn kind(&self) -> &'static str {
        "npm"
    }

    fn reads(&self, file: &str) -> bool {
        file == "package.json" || file == "pnpm-workspace.yaml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let has_package = files.contains(&"package.json");
        let has_pnpm = files.contains(&"pnpm-workspace.yaml");
        if !has_package && !has_pnpm {
            return None;
        }
        let mut found = Found::default();
        let mut members = Vec::new();
        if has_package {
            let path = join(dir, "package.json");
            found.manifests.push(path.clone());
            match serde_json::from_slice::<Value>(&tree.read(&path).unwrap_or_default()) {
                Ok(package) => {
                    let text = |key: &str| package[key].as_str().map(str::to_owned);
                    found.name = text("name");
                    found.version = text("version");
                    found.description = text("description");
                    let workspaces = package["workspaces"]
                        .as_array()
                        .or_else(|| package["workspaces"]["packages"].as_array());
                    members.extend(
                        workspaces
                            .into_iter()
                            .flatten()
                            .filter_map(|m| m.as_str().map(str::to_owned)),
                    );
                }
                Err(error) => found.problems.push(format!("{path}: {error}")),
            }
        }
        if has_pnpm {
            let path = join(dir, "pnpm-workspace.yaml");
            found.manifests.push(path.clone());
            if let Some(workspace) = read_yaml::<PnpmWorkspace>(tree, &path, &mut found) {
                members.extend(workspace.packages);
            }
        }
        if !members.is_empty() {
            let (exclude, members): (Vec<String>, Vec<String>) =
                members.into_iter().partition(|m| m.starts_with('!'));
            let exclude = exclude
                .into_iter()
                .map(|m| m.trim_start_matches('!').to_owned())
                .collect();
            found.workspace = Some(Workspace {
                members,
                exclude,
                version: None,
            });
        }
        Some(found)
    }
}
