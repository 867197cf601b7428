//! .NET: `*.csproj`, `*.fsproj` and `*.vbproj` read with a real XML parser. The project is named by
//! `<PackageId>`, else `<AssemblyName>`, else the file's stem; `<Version>` (or `<VersionPrefix>`) and
//! `<Description>` are literal unless they use MSBuild `$(…)` properties. Several project files in one
//! directory make one project, named by the first.

use roxmltree::Document;

use super::{Detector, Found, Tree, join};

/// The .NET detector.
pub struct DotNet;

const EXTENSIONS: [&str; 3] = [".csproj", ".fsproj", ".vbproj"];

impl Detector for DotNet {
    fn kind(&self) -> &'static str {
        "dotnet"
    }

    fn reads(&self, file: &str) -> bool {
        EXTENSIONS.iter().any(|e| file.ends_with(e))
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let mut projects: Vec<&str> = files.iter().copied().filter(|f| self.reads(f)).collect();
        projects.sort_unstable();
        let first = *projects.first()?;
        let mut found = Found {
            manifests: projects.iter().map(|f| join(dir, f)).collect(),
            ..Found::default()
        };
        let path = join(dir, first);
        let stem = EXTENSIONS
            .iter()
            .find_map(|e| first.strip_suffix(e))
            .unwrap_or(first)
            .to_owned();
        let text = tree.text(&path);
        match Document::parse(&text) {
            Ok(document) => {
                let property = |name: &str| {
                    document
                        .descendants()
                        .filter(|n| n.tag_name().name() == name)
                        .filter(|n| {
                            n.parent()
                                .is_some_and(|p| p.tag_name().name() == "PropertyGroup")
                        })
                        .find_map(|n| n.text())
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                };
                let literal = |value: Option<String>| value.filter(|v| !v.contains("$("));
                found.name = literal(property("PackageId"))
                    .or_else(|| literal(property("AssemblyName")))
                    .or(Some(stem));
                found.version = literal(property("Version").or_else(|| property("VersionPrefix")));
                found.description = literal(property("Description"));
            }
            Err(error) => {
                found.name = Some(stem);
                found.problems.push(format!("{path}: {error}"));
            }
        }
        Some(found)
    }
}
