//! Maven: `pom.xml` read with a real XML parser (commented-out elements do not exist). The project is
//! named by its `artifactId`; `groupId` and `version` are inherited from the `<parent>` (read from the
//! tree at its `relativePath`, `../pom.xml` by default) and `${…}` properties are resolved from the
//! POM's own `<properties>`, its parents' and the `project.*` built-ins. `<modules>` declare members.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use super::{Detector, Found, Tree, Workspace, join, normalize};

/// The Maven detector.
pub struct Maven;

/// How many parents are followed before giving up (cycles, absurd chains).
const MAX_PARENTS: usize = 8;

impl Detector for Maven {
    fn kind(&self) -> &'static str {
        "maven"
    }

    fn reads(&self, file: &str) -> bool {
        file == "pom.xml"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"pom.xml") {
            return None;
        }
        let path = join(dir, "pom.xml");
        let mut found = Found::from_manifest(&path);
        let pom = match Pom::read(tree, &path) {
            Ok(pom) => pom,
            Err(problem) => {
                found.problems.push(problem);
                return Some(found);
            }
        };
        // The chain of POMs from this one up through its parents found in the tree.
        let mut chain = vec![pom];
        let mut at = path;
        while chain.len() <= MAX_PARENTS {
            let last = chain.last().expect("the chain starts with this POM");
            let Some(relative) = last.parent_path.clone() else {
                break;
            };
            let base = at.rsplit_once('/').map_or("", |(d, _)| d);
            let Some(parent_path) = normalize(base, &relative).map(|p| {
                if p.ends_with(".xml") {
                    p
                } else {
                    join(&p, "pom.xml")
                }
            }) else {
                break;
            };
            let Ok(parent) = Pom::read(tree, &parent_path) else {
                break;
            };
            at = parent_path;
            chain.push(parent);
        }
        let own = &chain[0];
        let version = own.version.clone().or_else(|| own.parent_version.clone());
        let group = own.group.clone().or_else(|| own.parent_group.clone());
        let mut properties: HashMap<String, String> = HashMap::new();
        for pom in chain.iter().rev() {
            properties.extend(pom.properties.clone());
        }
        for (key, value) in [
            ("project.version", &version),
            ("version", &version),
            ("project.groupId", &group),
            ("project.artifactId", &own.artifact),
            ("project.parent.version", &own.parent_version),
            ("project.parent.groupId", &own.parent_group),
        ] {
            if let Some(value) = value {
                properties.insert(key.to_owned(), value.clone());
            }
        }
        found.name = own.artifact.clone();
        found.version = version.and_then(|v| resolve(&v, &properties));
        found.description = own
            .description
            .clone()
            .and_then(|d| resolve(&d, &properties));
        if !own.modules.is_empty() {
            found.workspace = Some(Workspace {
                members: own.modules.clone(),
                ..Workspace::default()
            });
        }
        Some(found)
    }
}

/// What one POM states.
#[derive(Debug, Default)]
struct Pom {
    artifact: Option<String>,
    group: Option<String>,
    version: Option<String>,
    description: Option<String>,
    parent_group: Option<String>,
    parent_version: Option<String>,
    /// Where the parent POM is, relative to this one's directory (`None`: no parent, or not here).
    parent_path: Option<String>,
    properties: HashMap<String, String>,
    modules: Vec<String>,
}

impl Pom {
    fn read(tree: &dyn Tree, path: &str) -> Result<Self, String> {
        let bytes = tree
            .read(path)
            .ok_or_else(|| format!("{path}: unreadable"))?;
        let text = String::from_utf8_lossy(&bytes);
        let document = Document::parse(&text).map_err(|error| format!("{path}: {error}"))?;
        let project = document.root_element();
        if project.tag_name().name() != "project" {
            return Err(format!("{path}: the root element is not <project>"));
        }
        let mut pom = Pom {
            artifact: text_of(project, "artifactId"),
            group: text_of(project, "groupId"),
            version: text_of(project, "version"),
            description: text_of(project, "description"),
            ..Pom::default()
        };
        if let Some(parent) = child(project, "parent") {
            pom.parent_group = text_of(parent, "groupId");
            pom.parent_version = text_of(parent, "version");
            // An empty <relativePath/> means "look the parent up in repositories, not here".
            pom.parent_path = match child(parent, "relativePath") {
                Some(node) => node
                    .text()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                None => Some("../pom.xml".to_owned()),
            };
        }
        if let Some(properties) = child(project, "properties") {
            for property in properties.children().filter(Node::is_element) {
                pom.properties.insert(
                    property.tag_name().name().to_owned(),
                    property.text().unwrap_or("").trim().to_owned(),
                );
            }
        }
        if let Some(modules) = child(project, "modules") {
            pom.modules = modules
                .children()
                .filter(|n| n.tag_name().name() == "module")
                .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
                .filter(|m| !m.is_empty())
                .collect();
        }
        Ok(pom)
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.tag_name().name() == name)
}

fn text_of(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// `value` with every `${name}` replaced (repeatedly, for properties defined by properties);
/// `None` when one cannot be resolved (defined outside the repository, or by the build).
fn resolve(value: &str, properties: &HashMap<String, String>) -> Option<String> {
    let mut value = value.to_owned();
    for _ in 0..MAX_PARENTS {
        let Some(start) = value.find("${") else {
            return Some(value);
        };
        let end = start + value[start..].find('}')?;
        let replacement = properties.get(&value[start + 2..end])?;
        value.replace_range(start..=end, replacement);
    }
    None
}
