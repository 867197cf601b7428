//! A small tokenizer for manifests that are programs (Gradle and Kotlin scripts, gemspecs, `mix.exs`,
//! `Package.swift`, `setup.py`, `CMakeLists.txt`): comments dropped, string literals decoded, words
//! and punctuation kept, so detectors read literal values by token patterns, never by regex over text.
//! A value that is not a literal (a variable, a call) is simply not a [`Token::Str`], so it reads as
//! unknown rather than wrong.

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An identifier, number or dotted name (`rootProject.name`, `@version`, `1.2.3`).
    Word(String),
    /// A string literal's value (quotes removed, simple escapes decoded). Interpolated strings
    /// (`"${x}"`, `"#{x}"`, `"\(x)"`) are [`Token::Dynamic`].
    Str(String),
    /// A string literal whose value is computed.
    Dynamic,
    /// Any other character.
    Punct(char),
}

/// Which comments a language has.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// Line comments start with `//` (C family) …
    pub slash_comments: bool,
    /// … or with `#` (scripts, CMake).
    pub hash_comments: bool,
}

/// Groovy, Kotlin, Swift.
pub const C_LIKE: Syntax = Syntax {
    slash_comments: true,
    hash_comments: false,
};
/// Ruby, Elixir, Python, CMake.
pub const SCRIPT: Syntax = Syntax {
    slash_comments: false,
    hash_comments: true,
};

/// Splits `text` into tokens.
pub fn tokens(text: &str, syntax: Syntax) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if syntax.slash_comments && c == '/' && next == Some('/')
            || syntax.hash_comments && c == '#'
        {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if syntax.slash_comments && c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' {
            let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
            let quote_len = if triple { 3 } else { 1 };
            i += quote_len;
            let mut value = String::new();
            let mut dynamic = false;
            while i < chars.len() {
                let ch = chars[i];
                if ch == c
                    && (!triple || (chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c)))
                {
                    i += quote_len;
                    break;
                }
                if ch == '\\' {
                    match chars.get(i + 1) {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some('(') if c == '"' => dynamic = true,
                        Some(&other) => value.push(other),
                        None => {}
                    }
                    i += 2;
                    continue;
                }
                if c == '"' && (ch == '$' || ch == '#') && chars.get(i + 1) == Some(&'{') {
                    dynamic = true;
                }
                if !triple && ch == '\n' {
                    break;
                }
                value.push(ch);
                i += 1;
            }
            out.push(if dynamic {
                Token::Dynamic
            } else {
                Token::Str(value)
            });
        } else if is_word(c) {
            let start = i;
            while i < chars.len() && (is_word(chars[i]) || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '@' | '-')
}

/// The string literal right after `key` and one of `separators` (`name = "x"`, `name: "x"`,
/// `name "x"` when `separators` is empty), searching the whole stream; the first match wins.
pub fn literal_after(tokens: &[Token], key: &str, separators: &[char]) -> Option<String> {
    let value = tokens.iter().enumerate().find_map(|(i, token)| {
        if !matches!(token, Token::Word(word) if word == key) {
            return None;
        }
        match (separators.is_empty(), tokens.get(i + 1)) {
            (true, value) => Some(value),
            (false, Some(Token::Punct(p))) if separators.contains(p) => Some(tokens.get(i + 2)),
            _ => None,
        }
    })??;
    match value {
        Token::Str(value) => Some(value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_dropped_and_strings_decoded() {
        let tokens = tokens(
            "// include 'old'\ninclude 'a', \"b\" /* 'c' */\nversion = \"${v}\"\n",
            C_LIKE,
        );
        assert_eq!(
            tokens,
            [
                Token::Word("include".into()),
                Token::Str("a".into()),
                Token::Punct(','),
                Token::Str("b".into()),
                Token::Word("version".into()),
                Token::Punct('='),
                Token::Dynamic,
            ]
        );
        let script = super::tokens("# name = 'x'\nname = '''multi\nline''' # tail", SCRIPT);
        assert_eq!(
            literal_after(&script, "name", &['=']).as_deref(),
            Some("multi\nline")
        );
    }
}
