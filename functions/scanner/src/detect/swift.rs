//! Swift Package Manager: `Package.swift`, read with the shared tokenizer for the literal
//! `Package(name: "…")`. SwiftPM versions come from git tags, so none is reported.

use super::{
    Detector, Found, Tree, join,
    lexer::{C_LIKE, Token, tokens},
};

/// The SwiftPM detector.
pub struct Swift;

impl Detector for Swift {
    fn kind(&self) -> &'static str {
        "swift"
    }

    fn reads(&self, file: &str) -> bool {
        file == "Package.swift"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"Package.swift") {
            return None;
        }
        let path = join(dir, "Package.swift");
        let text = tree.text(&path);
        let script = tokens(&text, C_LIKE);
        let name = script.windows(5).find_map(|w| match w {
            [
                Token::Word(package),
                Token::Punct('('),
                Token::Word(label),
                Token::Punct(':'),
                Token::Str(name),
            ] if package == "Package" && label == "name" => Some(name.clone()),
            _ => None,
        });
        Some(Found {
            name,
            manifests: vec![path],
            ..Found::default()
        })
    }
}
