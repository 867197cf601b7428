//! PHP Composer: `composer.json` (`name`, `version`, `description`).

use serde_json::Value;

use super::{Detector, Found, Tree, join};

/// The Composer detector.
pub struct Composer;

impl Detector for Composer {
    fn kind(&self) -> &'static str {
        "composer"
    }

    fn reads(&self, file: &str) -> bool {
        file == "composer.json"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"composer.json") {
            return None;
        }
        let path = join(dir, "composer.json");
        let mut found = Found::from_manifest(&path);
        match serde_json::from_slice::<Value>(&tree.read(&path).unwrap_or_default()) {
            Ok(manifest) => {
                let text = |key: &str| manifest[key].as_str().map(str::to_owned);
                found.name = text("name");
                found.version = text("version");
                found.description = text("description");
            }
            Err(error) => found.problems.push(format!("{path}: {error}")),
        }
        Some(found)
    }
}
