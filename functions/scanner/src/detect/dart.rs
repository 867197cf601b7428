//! Dart and Flutter: `pubspec.yaml` (`name`, `version`, `description`; a pub workspace's
//! `workspace:` list declares its members).

use serde::Deserialize;

use super::{Detector, Found, Tree, Workspace, join, read_yaml};

/// The pubspec detector.
pub struct Dart;

#[derive(Deserialize)]
struct Pubspec {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    workspace: Option<Vec<String>>,
}

impl Detector for Dart {
    fn kind(&self) -> &'static str {
        "dart"
    }

    fn reads(&self, file: &str) -> bool {
        file == "pubspec.yaml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"pubspec.yaml") {
            return None;
        }
        let path = join(dir, "pubspec.yaml");
        let mut found = Found::from_manifest(&path);
        if let Some(pubspec) = read_yaml::<Pubspec>(tree, &path, &mut found) {
            found.name = pubspec.name;
            found.version = pubspec.version;
            found.description = pubspec.description;
            found.workspace = pubspec.workspace.map(|members| Workspace {
                members,
                ..Workspace::default()
            });
        }
        Some(found)
    }
}
