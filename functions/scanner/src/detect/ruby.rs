//! Ruby gems: `*.gemspec`, read with the shared tokenizer: `spec.name = "x"` (any receiver),
//! `spec.version`, `spec.summary`/`spec.description` when literal (`Foo::VERSION` is not a literal, so
//! the version is unknown). The name falls back to the file's stem.

use super::{
    Detector, Found, Tree, join,
    lexer::{SCRIPT, Token, tokens},
};

/// The gemspec detector.
pub struct Ruby;

impl Detector for Ruby {
    fn kind(&self) -> &'static str {
        "gem"
    }

    fn reads(&self, file: &str) -> bool {
        file.ends_with(".gemspec")
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let mut specs: Vec<&str> = files.iter().copied().filter(|f| self.reads(f)).collect();
        specs.sort_unstable();
        let first = *specs.first()?;
        let path = join(dir, first);
        let text = tree.text(&path);
        let script = tokens(&text, SCRIPT);
        let attribute = |name: &str| {
            script.windows(3).find_map(|w| match w {
                [Token::Word(receiver), Token::Punct('='), value]
                    if receiver.rsplit_once('.').is_some_and(|(_, a)| a == name) =>
                {
                    match value {
                        Token::Str(v) => Some(Some(v.clone())),
                        _ => Some(None),
                    }
                }
                _ => None,
            })?
        };
        Some(Found {
            name: attribute("name").or_else(|| first.strip_suffix(".gemspec").map(str::to_owned)),
            version: attribute("version"),
            description: attribute("summary").or_else(|| attribute("description")),
            manifests: specs.iter().map(|f| join(dir, f)).collect(),
            ..Found::default()
        })
    }
}
