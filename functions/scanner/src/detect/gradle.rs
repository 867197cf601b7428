//! Gradle: a directory with `build.gradle(.kts)` or `settings.gradle(.kts)` is one project (the two
//! merge). The settings script names the root (`rootProject.name`, else the directory) and declares
//! members (`include ':a:b'` → `a/b`, `includeBuild 'x'`); the version is the build script's literal
//! `version`, else `gradle.properties`, else the root build's `gradle.properties` (inherited by
//! members). Scripts are read with the shared tokenizer: only literal values count.

use super::{
    Detector, Found, Tree, Workspace, join,
    lexer::{C_LIKE, Token, literal_after, tokens},
};

/// The Gradle detector.
pub struct Gradle;

const BUILD: [&str; 2] = ["build.gradle", "build.gradle.kts"];
const SETTINGS: [&str; 2] = ["settings.gradle", "settings.gradle.kts"];

impl Detector for Gradle {
    fn kind(&self) -> &'static str {
        "gradle"
    }

    fn reads(&self, file: &str) -> bool {
        BUILD.contains(&file) || SETTINGS.contains(&file) || file == "gradle.properties"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let build = BUILD.into_iter().find(|f| files.contains(f));
        let settings = SETTINGS.into_iter().find(|f| files.contains(f));
        if build.is_none() && settings.is_none() {
            return None;
        }
        let mut found = Found::default();
        let read = |file: &str| {
            let text = tree.text(&join(dir, file));
            tokens(&text, C_LIKE)
        };
        if let Some(settings) = settings {
            found.manifests.push(join(dir, settings));
            let script = read(settings);
            found.name = literal_after(&script, "rootProject.name", &['=']);
            let mut members: Vec<String> = included(&script, "include")
                .into_iter()
                .map(|p| p.trim_start_matches(':').replace(':', "/"))
                .collect();
            members.extend(included(&script, "includeBuild"));
            let properties = if files.contains(&"gradle.properties") {
                properties(tree, &join(dir, "gradle.properties"))
            } else {
                Vec::new()
            };
            found.workspace = Some(Workspace {
                members,
                exclude: Vec::new(),
                version: property(&properties, "version"),
            });
        }
        if let Some(build) = build {
            found.manifests.push(join(dir, build));
            let script = read(build);
            found.version = literal_after(&script, "version", &['='])
                .or_else(|| literal_after(&script, "version", &[]));
            found.description = literal_after(&script, "description", &['='])
                .or_else(|| literal_after(&script, "description", &[]));
        }
        if files.contains(&"gradle.properties") {
            let path = join(dir, "gradle.properties");
            let own = properties(tree, &path);
            found.manifests.push(path);
            found.version = found.version.or_else(|| property(&own, "version"));
        }
        if settings.is_none() {
            found.name = dir.rsplit('/').next().map(str::to_owned);
        }
        // An included build is a build of its own: it inherits nothing.
        found.version_from_workspace = found.version.is_none() && settings.is_none();
        Some(found)
    }
}

/// The string arguments of every `verb` call: `include 'a', 'b'`, `include("a", "b")`.
fn included(script: &[Token], verb: &str) -> Vec<String> {
    let mut values = Vec::new();
    for (i, token) in script.iter().enumerate() {
        if *token != Token::Word(verb.to_owned()) {
            continue;
        }
        for next in &script[i + 1..] {
            match next {
                Token::Str(value) => values.push(value.clone()),
                Token::Punct('(' | ',') => {}
                _ => break,
            }
        }
    }
    values
}

/// A Java properties file's `key=value` / `key: value` / `key value` lines.
fn properties(tree: &dyn Tree, path: &str) -> Vec<(String, String)> {
    let text = tree.text(path);
    text.lines()
        .map(str::trim_start)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| {
            let split = line.find(['=', ':', ' ', '\t'])?;
            let (key, rest) = line.split_at(split);
            let value = rest[1..].trim_start_matches([' ', '\t', '=', ':']).trim();
            Some((key.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

fn property(properties: &[(String, String)], key: &str) -> Option<String> {
    properties
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty() && v != "unspecified")
}
