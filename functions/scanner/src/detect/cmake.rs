//! CMake: `CMakeLists.txt` with a `project(<name> [VERSION v] [DESCRIPTION d] …)` command, read with
//! the shared tokenizer (commands are case-insensitive). A `CMakeLists.txt` without `project()` is a
//! weak manifest: a project only where no ancestor directory holds one.

use super::{
    Detector, Found, Tree, join,
    lexer::{SCRIPT, Token, tokens},
};

/// The CMake detector.
pub struct CMake;

impl Detector for CMake {
    fn kind(&self) -> &'static str {
        "cmake"
    }

    fn reads(&self, file: &str) -> bool {
        file == "CMakeLists.txt"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"CMakeLists.txt") {
            return None;
        }
        let path = join(dir, "CMakeLists.txt");
        let text = tree.text(&path);
        let script = tokens(&text, SCRIPT);
        let mut found = Found {
            manifests: vec![path],
            weak: true,
            ..Found::default()
        };
        let start = script.windows(2).position(|w| {
            matches!(w, [Token::Word(command), Token::Punct('(')] if command.eq_ignore_ascii_case("project"))
        });
        let Some(start) = start else {
            return Some(found);
        };
        let arguments: Vec<Option<String>> = script[start + 2..]
            .iter()
            .take_while(|t| **t != Token::Punct(')'))
            .map(|t| match t {
                Token::Word(w) | Token::Str(w) if !w.contains("${") => Some(w.clone()),
                _ => None,
            })
            .collect();
        let after = |keyword: &str| {
            let at = arguments
                .iter()
                .position(|a| a.as_deref() == Some(keyword))?;
            arguments.get(at + 1).cloned().flatten()
        };
        found.weak = false;
        found.name = arguments.first().cloned().flatten();
        found.version = after("VERSION");
        found.description = after("DESCRIPTION");
        Some(found)
    }
}
