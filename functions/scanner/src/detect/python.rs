//! Python: `pyproject.toml` (PEP 621 `[project]`, Poetry's `[tool.poetry]`, uv workspaces
//! `[tool.uv.workspace]`); `dynamic = ["version"]` means no literal version. `requirements*.txt` is a
//! weak manifest: a project only where no ancestor directory holds one (decided when assembling).

use serde::Deserialize;

use super::{Detector, Found, Tree, Workspace, join, read_toml};

/// The Python detector.
pub struct Python;

#[derive(Deserialize, Default)]
struct PyProject {
    project: Option<Pep621>,
    #[serde(default)]
    tool: Tools,
}

#[derive(Deserialize)]
struct Pep621 {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct Tools {
    poetry: Option<Pep621>,
    uv: Option<Uv>,
}

#[derive(Deserialize)]
struct Uv {
    workspace: Option<UvWorkspace>,
}

#[derive(Deserialize)]
struct UvWorkspace {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

impl Detector for Python {
    fn kind(&self) -> &'static str {
        "python"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"pyproject.toml") {
            let requirements: Vec<String> = files
                .iter()
                .filter(|f| f.starts_with("requirements") && f.ends_with(".txt"))
                .map(|f| join(dir, f))
                .collect();
            return (!requirements.is_empty()).then(|| Found {
                manifests: requirements,
                weak: true,
                ..Found::default()
            });
        }
        let path = join(dir, "pyproject.toml");
        let mut found = Found {
            manifests: vec![path.clone()],
            ..Found::default()
        };
        let Some(pyproject) = read_toml::<PyProject>(tree, &path, &mut found) else {
            return Some(found);
        };
        if let Some(meta) = pyproject.project.or(pyproject.tool.poetry) {
            found.name = meta.name;
            found.version = meta.version;
            found.description = meta.description;
        }
        if let Some(workspace) = pyproject.tool.uv.and_then(|uv| uv.workspace) {
            found.workspace = Some(Workspace {
                members: workspace.members,
                exclude: workspace.exclude,
                version: None,
            });
        }
        Some(found)
    }
}
