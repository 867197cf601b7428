//! Python: `pyproject.toml` (PEP 621 `[project]`, Poetry's `[tool.poetry]`, uv workspaces
//! `[tool.uv.workspace]`), `setup.cfg` (`[metadata]`, an INI file) and `setup.py` (the literal keyword
//! arguments of `setup(…)`, read with the shared tokenizer), merged in that order of precedence;
//! `dynamic = ["version"]`, `attr:`/`file:` values and computed arguments mean no literal value.
//! `requirements*.txt` is a weak manifest: a project only where no ancestor directory holds one.

use serde::Deserialize;

use super::{
    Detector, Found, Tree, Workspace, join,
    lexer::{SCRIPT, Token, tokens},
    read_toml,
};

/// The Python detector.
pub struct Python;

#[derive(Deserialize, Default)]
struct PyProject {
    project: Option<Pep621>,
    #[serde(default)]
    tool: Tools,
}

#[derive(Deserialize, Default)]
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

    fn reads(&self, file: &str) -> bool {
        matches!(file, "pyproject.toml" | "setup.py" | "setup.cfg") || is_requirements(file)
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let manifests: Vec<&str> = ["pyproject.toml", "setup.cfg", "setup.py"]
            .into_iter()
            .filter(|f| files.contains(f))
            .collect();
        if manifests.is_empty() {
            let requirements: Vec<String> = files
                .iter()
                .filter(|f| is_requirements(f))
                .map(|f| join(dir, f))
                .collect();
            return (!requirements.is_empty()).then(|| Found {
                manifests: requirements,
                weak: true,
                ..Found::default()
            });
        }
        let mut found = Found::default();
        for manifest in manifests {
            let path = join(dir, manifest);
            found.manifests.push(path.clone());
            let meta = match manifest {
                "pyproject.toml" => pyproject(tree, &path, &mut found),
                "setup.cfg" => setup_cfg(tree, &path, &mut found),
                _ => setup_py(tree, &path),
            };
            found.name = found.name.or(meta.name);
            found.version = found.version.or(meta.version);
            found.description = found.description.or(meta.description);
        }
        Some(found)
    }
}

fn is_requirements(file: &str) -> bool {
    file.starts_with("requirements") && file.ends_with(".txt")
}

/// `pyproject.toml`'s metadata; a uv workspace is recorded on `found`.
fn pyproject(tree: &dyn Tree, path: &str, found: &mut Found) -> Pep621 {
    let Some(pyproject) = read_toml::<PyProject>(tree, path, found) else {
        return Pep621::default();
    };
    if let Some(workspace) = pyproject.tool.uv.and_then(|uv| uv.workspace) {
        found.workspace = Some(Workspace {
            members: workspace.members,
            exclude: workspace.exclude,
            version: None,
        });
    }
    pyproject
        .project
        .or(pyproject.tool.poetry)
        .unwrap_or_default()
}

/// `setup.cfg`'s `[metadata]`.
fn setup_cfg(tree: &dyn Tree, path: &str, found: &mut Found) -> Pep621 {
    let text = tree.text(path);
    match ini::Ini::load_from_str(&text) {
        Ok(ini) => {
            let value = |key: &str| {
                ini.get_from(Some("metadata"), key)
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && !v.starts_with("attr:") && !v.starts_with("file:"))
                    .map(str::to_owned)
            };
            Pep621 {
                name: value("name"),
                version: value("version"),
                description: value("description"),
            }
        }
        Err(error) => {
            found.problems.push(format!("{path}: {error}"));
            Pep621::default()
        }
    }
}

/// The literal keyword arguments of `setup(…)` in `setup.py`.
fn setup_py(tree: &dyn Tree, path: &str) -> Pep621 {
    let text = tree.text(path);
    let script = tokens(&text, SCRIPT);
    let Some(start) = script.windows(2).position(|w| {
        matches!(w, [Token::Word(f), Token::Punct('(')] if f == "setup" || f.ends_with(".setup"))
    }) else {
        return Pep621::default();
    };
    let mut depth = 0_usize;
    let mut arguments = Vec::new();
    for token in &script[start + 1..] {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        if depth == 1 {
            arguments.push(token.clone());
        }
    }
    let keyword = |key: &str| {
        arguments.windows(3).find_map(|w| match w {
            [Token::Word(k), Token::Punct('='), Token::Str(v)] if k == key => Some(v.clone()),
            _ => None,
        })
    };
    Pep621 {
        name: keyword("name"),
        version: keyword("version"),
        description: keyword("description"),
    }
}
