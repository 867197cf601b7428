//! Helm charts: `Chart.yaml` (`name`, `version`, `description`). Sub-charts under `charts/` are
//! projects of their own, below their chart.

use serde::Deserialize;

use super::{Detector, Found, Tree, join, read_yaml};

/// The Helm detector.
pub struct Helm;

#[derive(Deserialize)]
struct Chart {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
}

impl Detector for Helm {
    fn kind(&self) -> &'static str {
        "helm"
    }

    fn reads(&self, file: &str) -> bool {
        file == "Chart.yaml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"Chart.yaml") {
            return None;
        }
        let path = join(dir, "Chart.yaml");
        let mut found = Found::from_manifest(&path);
        if let Some(chart) = read_yaml::<Chart>(tree, &path, &mut found) {
            found.name = chart.name;
            found.version = chart.version;
            found.description = chart.description;
        }
        Some(found)
    }
}
