//! Explicit references to tasks in commit messages, pull-request text and branch names (see
//! `docs/linking.md`): our ids `TASK-AUTH-12`; GitHub's `#12`, `GH-12`, `owner/repo#12` and issue or
//! pull-request URLs; Jira and Linear keys `ABC-123` (and their URLs); Azure Boards `AB#123`.
//!
//! The most specific pattern runs first and masks what it matched, so `AUTH-12` inside `TASK-AUTH-12`
//! is not a second hit and a `#12` inside a URL is not a GitHub reference. Fenced code blocks, inline
//! code and quoted lines are never read. A reference preceded by a closing word (GitHub's
//! close/fix/resolve forms, GitLab's and Linear's implement/complete, any case, optional colon)
//! `closes`; any other mention `references`. One closing word covers a list (`Fixes ENG-1, ENG-2 and
//! ENG-3`), except for GitHub numbers and Azure Boards items, which want the word before each
//! (`Fixes #1, fixes #2`), as GitHub and Azure Boards read them.
//!
//! Texts are hostile: only the first [`MAX_TEXT_BYTES`] are read, and every step is linear in what
//! is read (one pass per pattern, a bounded look-behind for closing words, targets deduplicated by
//! hash, hidden ranges swept in order).

use std::{collections::HashMap, sync::LazyLock};

use regex::Regex;

/// What a reference says of its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// The task is done once this reaches the default branch.
    Closes,
    /// A mention.
    References,
}

impl Relation {
    /// The `commit_task_links.relation` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closes => "closes",
            Self::References => "references",
        }
    }
}

/// At most this much of a text is read for references: a commit message or a pull request's text
/// that says more than 64 KiB before naming its task is not naming it.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// How far before a reference a closing word is looked for (`Closes: issue ` and its spacing).
const CLOSING_LOOK_BEHIND: usize = 64;

/// What is referred to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// One of our task ids, `TASK-AUTH-12`, as written (upper case).
    Task(String),
    /// A GitHub issue or pull request: `owner/repo` when named, else this repository's.
    GitHub {
        /// `owner/repo`, when the reference names one.
        repository: Option<String>,
        /// The issue or pull-request number.
        number: u64,
    },
    /// A Jira or Linear key, `ABC-123` (upper case).
    Key(String),
    /// An Azure Boards work item, `AB#123`.
    AzureBoards(u64),
}

/// One reference found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// What it refers to.
    pub target: Target,
    /// Whether it closes it.
    pub relation: Relation,
}

static TASK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bTASK-[A-Z][A-Z0-9]*-[0-9]+\b").expect("valid"));
static GITHUB_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"https?://github\.com/([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/(?:issues|pull)/([0-9]+)\b")
        .expect("valid")
});
static KEY_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"https?://\S*?/(?:browse|issue)/([A-Z][A-Z0-9_]+-[0-9]+)\b\S*").expect("valid")
});
static ANY_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[a-z][a-z0-9+.-]*://\S+").expect("valid"));
static AZURE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bAB#([0-9]+)\b").expect("valid"));
static OWNER_REPO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)#([0-9]+)\b").expect("valid")
});
/// `#12` not glued to a word or an entity (`&#12;`); the reference itself is group `r`.
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^A-Za-z0-9_&#/])(?P<r>#([0-9]+))\b").expect("valid"));
static GH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bGH-([0-9]+)\b").expect("valid"));
static KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Z][A-Z0-9_]+)-([0-9]+)\b").expect("valid"));
/// A closing word (and GitLab's optional `issue`) right before a reference.
static CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:clos(?:e|es|ed|ing)|fix(?:es|ed|ing)?|resolv(?:e|es|ed|ing)|implement(?:s|ed|ing)?|complet(?:e|es|ed|ing))\s*:?\s*(?:issues?\s+)?$")
        .expect("valid")
});
/// What may stand between two references of one list.
static LIST_SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)$").expect("valid"));

/// The references in a commit message or a pull request's title or body, in the order written,
/// each target once (a closing mention wins over a plain one).
pub fn parse(text: &str) -> Vec<Reference> {
    let readable = without_code_and_quotes(truncate(text, MAX_TEXT_BYTES));
    let mut masked = readable.clone();
    let mut hits: Vec<(usize, usize, Target)> = Vec::new();
    let mut take = |pattern: &Regex,
                    masked: &mut String,
                    target: &dyn Fn(&regex::Captures<'_>) -> Option<Target>| {
        let found: Vec<(usize, usize, Option<Target>)> = pattern
            .captures_iter(masked)
            .map(|c| {
                let whole = c.get(0).expect("group 0");
                // Where a pattern also matches the character before the reference, `r` is the reference.
                let start = c.name("r").map_or(whole.start(), |r| r.start());
                (start, whole.end(), target(&c))
            })
            .collect();
        for (start, end, target) in found {
            masked.replace_range(start..end, &" ".repeat(end - start));
            if let Some(target) = target {
                hits.push((start, end, target));
            }
        }
    };
    take(&TASK, &mut masked, &|c| Some(Target::Task(c[0].to_owned())));
    take(&GITHUB_URL, &mut masked, &|c| {
        Some(Target::GitHub {
            repository: Some(c[1].to_owned()),
            number: c[2].parse().ok()?,
        })
    });
    take(&KEY_URL, &mut masked, &|c| key(&c[1]));
    take(&ANY_URL, &mut masked, &|_| None);
    take(&AZURE, &mut masked, &|c| {
        Some(Target::AzureBoards(c[1].parse().ok()?))
    });
    take(&OWNER_REPO, &mut masked, &|c| {
        Some(Target::GitHub {
            repository: Some(c[1].to_owned()),
            number: c[2].parse().ok()?,
        })
    });
    for pattern in [&*NUMBER, &*GH] {
        take(pattern, &mut masked, &|c| {
            Some(Target::GitHub {
                repository: None,
                number: c[c.len() - 1].parse().ok()?,
            })
        });
    }
    take(&KEY, &mut masked, &|c| key(&c[0]));
    hits.sort_by_key(|(start, _, _)| *start);

    let mut references: Vec<Reference> = Vec::new();
    let mut listed: HashMap<Target, usize> = HashMap::new();
    let mut previous: Option<(usize, Relation)> = None;
    for (start, end, target) in hits {
        let relation = if CLOSING.is_match(look_behind(&readable, start)) {
            Relation::Closes
        } else {
            match previous {
                // A list after one closing word, except for GitHub numbers and Azure Boards items,
                // which want the word before each (as GitHub and Azure Boards read them).
                Some((previous_end, Relation::Closes))
                    if !matches!(target, Target::GitHub { .. } | Target::AzureBoards(_))
                        && LIST_SEPARATOR.is_match(&readable[previous_end..start]) =>
                {
                    Relation::Closes
                }
                _ => Relation::References,
            }
        };
        previous = Some((end, relation));
        match listed.get(&target) {
            Some(&at) => references[at].relation = references[at].relation.min(relation),
            None => {
                listed.insert(target.clone(), references.len());
                references.push(Reference { target, relation });
            }
        }
    }
    references
}

/// The first `max` bytes of `text`, cut after a white space so that the last word read is whole
/// (`ENG-1234` must not be read as `ENG-12`).
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &text[..cut];
    if text[cut..].starts_with(char::is_whitespace) {
        return head;
    }
    match head.rfind(char::is_whitespace) {
        Some(space) => &head[..space],
        None => head,
    }
}

/// The few words before `at` where a closing word would stand: at most [`CLOSING_LOOK_BEHIND`]
/// bytes, starting after a white space so that no word is cut in two (a cut `prefixes` must not read
/// as `fixes`).
fn look_behind(text: &str, at: usize) -> &str {
    if at <= CLOSING_LOOK_BEHIND {
        return &text[..at];
    }
    let window = &text[..at];
    let mut from = at - CLOSING_LOOK_BEHIND;
    while !window.is_char_boundary(from) {
        from += 1;
    }
    match window[from..].find(char::is_whitespace) {
        Some(space) => &window[from + space..],
        None => "",
    }
}

/// The reference a branch name carries: ours (`task-auth-12-login`) or a Linear/Jira-style key
/// (`eng-123-title`), in any case, after any `feature/`-like prefix. Branch names only reference.
pub fn parse_branch(branch: &str) -> Option<Reference> {
    static OURS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^task-([a-z][a-z0-9]*)-([0-9]+)(?:[-_.]|$)").expect("valid")
    });
    static KEYED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^([a-z][a-z0-9_]+)-([0-9]+)(?:[-_.]|$)").expect("valid"));
    let name = branch
        .trim_start_matches("refs/heads/")
        .rsplit('/')
        .next()?;
    let target = if let Some(c) = OURS.captures(name) {
        Target::Task(format!("TASK-{}-{}", c[1].to_uppercase(), &c[2]))
    } else {
        let c = KEYED.captures(name)?;
        key(&format!("{}-{}", c[1].to_uppercase(), &c[2]))?
    };
    Some(Reference {
        target,
        relation: Relation::References,
    })
}

/// A key, unless it is a CVE id.
fn key(key: &str) -> Option<Target> {
    (!key.starts_with("CVE-")).then(|| Target::Key(key.to_owned()))
}

/// `text` with code blocks, inline code and block quotes blanked (newlines kept), as a Markdown
/// parser finds them. The hidden ranges are swept in order, so this is linear in the text.
fn without_code_and_quotes(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut hidden: Vec<std::ops::Range<usize>> = Parser::new(text)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::CodeBlock(_) | Tag::BlockQuote(_)) | Event::Code(_) => Some(range),
            _ => None,
        })
        .collect();
    hidden.sort_unstable_by_key(|r| r.start);
    let mut ranges = hidden.into_iter().peekable();
    // The end of the hidden ranges that began at or before the current character.
    let mut hidden_until = 0;
    text.char_indices()
        .map(|(at, ch)| {
            while let Some(range) = ranges.next_if(|r| r.start <= at) {
                hidden_until = hidden_until.max(range.end);
            }
            if ch != '\n' && at < hidden_until {
                ' '
            } else {
                ch
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
