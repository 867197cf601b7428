//! Backstage: `catalog-info.yaml`, a stream of catalog entities; the first `Component` (else the first
//! entity) names the project by `metadata.name` with its `metadata.description`.

use serde::Deserialize;

use super::{Detector, Found, Tree, join};

/// The Backstage detector.
pub struct Backstage;

#[derive(Deserialize)]
struct Entity {
    kind: Option<String>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize, Default)]
struct Metadata {
    name: Option<String>,
    description: Option<String>,
}

impl Detector for Backstage {
    fn kind(&self) -> &'static str {
        "backstage"
    }

    fn reads(&self, file: &str) -> bool {
        file == "catalog-info.yaml" || file == "catalog-info.yml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let file = files.iter().copied().find(|f| self.reads(f))?;
        let path = join(dir, file);
        let mut found = Found::from_manifest(&path);
        let text = tree.text(&path);
        match serde_saphyr::from_multiple::<Entity>(&text) {
            Ok(entities) => {
                let entity = entities
                    .iter()
                    .find(|e| e.kind.as_deref() == Some("Component"))
                    .or(entities.first());
                if let Some(entity) = entity {
                    found.name = entity.metadata.name.clone();
                    found.description = entity.metadata.description.clone();
                }
            }
            Err(error) => found.problems.push(format!("{path}: {error}")),
        }
        Some(found)
    }
}
