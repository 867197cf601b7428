//! Elixir Mix: `mix.exs`, read with the shared tokenizer: `app: :name`, `version: "x"` (or the
//! `@version "x"` attribute it names), `description: "…"`; an umbrella's `apps_path: "apps"` declares
//! every directory under it a member.

use super::{
    Detector, Found, Tree, Workspace, join,
    lexer::{SCRIPT, Token, tokens},
};

/// The Mix detector.
pub struct Mix;

impl Detector for Mix {
    fn kind(&self) -> &'static str {
        "mix"
    }

    fn reads(&self, file: &str) -> bool {
        file == "mix.exs"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        if !files.contains(&"mix.exs") {
            return None;
        }
        let path = join(dir, "mix.exs");
        let text = tree.text(&path);
        let script = tokens(&text, SCRIPT);
        // `key: value` pairs of keyword lists; a value is a literal string, an atom or an attribute.
        let keyword = |key: &str| {
            script.windows(4).find_map(|w| match w {
                [Token::Word(k), Token::Punct(':'), Token::Str(v), _] if k == key => {
                    Some(Value::Text(v.clone()))
                }
                [
                    Token::Word(k),
                    Token::Punct(':'),
                    Token::Punct(':'),
                    Token::Word(atom),
                ] if k == key => Some(Value::Text(atom.clone())),
                [Token::Word(k), Token::Punct(':'), Token::Word(attribute), _]
                    if k == key && attribute.starts_with('@') =>
                {
                    Some(Value::Attribute(attribute.clone()))
                }
                _ => None,
            })
        };
        let resolve = |value: Option<Value>| match value? {
            Value::Text(text) => Some(text),
            Value::Attribute(name) => script.windows(2).find_map(|w| match w {
                [Token::Word(n), Token::Str(v)] if *n == name => Some(v.clone()),
                _ => None,
            }),
        };
        let mut found = Found {
            name: resolve(keyword("app")),
            version: resolve(keyword("version")),
            description: resolve(keyword("description")),
            manifests: vec![path],
            ..Found::default()
        };
        if let Some(apps) = resolve(keyword("apps_path")) {
            found.workspace = Some(Workspace {
                members: vec![format!("{}/*", apps.trim_end_matches('/'))],
                ..Workspace::default()
            });
        }
        Some(found)
    }
}

enum Value {
    Text(String),
    Attribute(String),
}
