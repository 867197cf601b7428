//! Our task format (`docs/tasklist-format.md`): a `tasklist.md` with YAML front matter describing the
//! project, and Markdown checklists. Parsed with a real Markdown parser (pulldown-cmark) and a real
//! YAML parser (serde-saphyr); a malformed front matter is reported, never fatal.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// The file names of a task list.
pub const FILE_NAMES: [&str; 2] = ["tasklist.md", "TASKLIST.md"];

/// The project described by the front matter; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FrontMatter {
    /// The project's name.
    pub name: Option<String>,
    /// The short name in task ids (`AUTH` in `TASK-AUTH-12`).
    pub short_name: Option<String>,
    /// One paragraph about the project.
    pub description: Option<String>,
    /// Free-form status (`active`, `planned`, …).
    pub status: Option<String>,
    /// Who owns it.
    pub owner: Option<String>,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// `- [ ]`
    Open,
    /// Any other marker: `- [~]`, `- [-]`, `- [/]`, `- [>]`, `- [!]`.
    InProgress,
    /// `- [x]` or `- [X]`
    Done,
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `TASK-AUTH-12` when the item carries an id; otherwise a key derived from its section and
    /// title, stable when lines move (`anon-` and 12 hex digits).
    pub key: String,
    /// Whether `key` was written in the item.
    pub explicit: bool,
    /// The item's text without its id.
    pub title: String,
    /// Its marker.
    pub status: TaskStatus,
    /// The headings above it, outermost first.
    pub section: Vec<String>,
    /// Index (in [`TaskList::tasks`]) of the item it is nested under.
    pub parent: Option<usize>,
    /// 1-based line of the item.
    pub line: usize,
}

/// A parsed task list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskList {
    /// The front matter, when present and valid.
    pub front_matter: Option<FrontMatter>,
    /// What was wrong with the file (reported on the project).
    pub problems: Vec<String>,
    /// The checklist items, in document order.
    pub tasks: Vec<Task>,
}

const IN_PROGRESS_MARKERS: [&str; 5] = ["[~]", "[-]", "[/]", "[>]", "[!]"];

/// Parses a task list file.
pub fn parse(text: &str) -> TaskList {
    let mut list = TaskList::default();
    let (front, body, body_line) = split_front_matter(text);
    if let Some(yaml) = front {
        match serde_saphyr::from_str::<FrontMatter>(yaml) {
            Ok(front_matter) => list.front_matter = Some(front_matter),
            Err(error) => list
                .problems
                .push(format!("front matter is not valid YAML: {error}")),
        }
    }
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| body_line + line_starts.partition_point(|&start| start <= offset);

    let mut section: Vec<(HeadingLevel, String)> = Vec::new();
    let mut heading: Option<(HeadingLevel, String)> = None;
    // Open list items: (index in tasks, if the item is a task; text collected so far).
    let mut items: Vec<Item> = Vec::new();
    let parser = Parser::new_ext(body, Options::ENABLE_TASKLISTS).into_offset_iter();
    for (event, range) in parser {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading.take() {
                    section.retain(|(l, _)| *l < level);
                    section.push((level, title.trim().to_owned()));
                }
            }
            Event::Start(Tag::Item) => items.push(Item {
                line: line_of(range.start),
                ..Item::default()
            }),
            Event::TaskListMarker(done) => {
                if let Some(item) = items.last_mut() {
                    item.status = Some(if done {
                        TaskStatus::Done
                    } else {
                        TaskStatus::Open
                    });
                }
            }
            Event::Start(Tag::List(_)) => finish_item(&mut items, &mut list, &section),
            Event::End(TagEnd::Item) => {
                finish_item(&mut items, &mut list, &section);
                items.pop();
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, title)) = heading.as_mut() {
                    title.push_str(&text);
                } else if let Some(item) = items.last_mut().filter(|item| !item.finished) {
                    item.text.push_str(&text);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(item) = items.last_mut().filter(|item| !item.finished) {
                    item.text.push(' ');
                }
            }
            _ => {}
        }
    }
    disambiguate(&mut list.tasks);
    list
}

#[derive(Debug, Default)]
struct Item {
    line: usize,
    status: Option<TaskStatus>,
    text: String,
    finished: bool,
    task: Option<usize>,
}

/// Turns the innermost open item into a task once its own text is complete (at its end, or where a
/// nested list starts).
fn finish_item(items: &mut [Item], list: &mut TaskList, section: &[(HeadingLevel, String)]) {
    let parent = items.iter().rev().skip(1).find_map(|item| item.task);
    let Some(item) = items.last_mut() else { return };
    if item.finished {
        return;
    }
    item.finished = true;
    let text = item.text.trim();
    let (status, text) = match item.status {
        Some(status) => (status, text),
        None => match IN_PROGRESS_MARKERS
            .iter()
            .find_map(|m| text.strip_prefix(m))
        {
            Some(rest) => (TaskStatus::InProgress, rest.trim_start()),
            None => return,
        },
    };
    let (key, title) = match task_id(text) {
        Some((id, title)) => (Some(id), title),
        None => (None, text.to_owned()),
    };
    let section: Vec<String> = section.iter().map(|(_, title)| title.clone()).collect();
    item.task = Some(list.tasks.len());
    list.tasks.push(Task {
        explicit: key.is_some(),
        key: key.unwrap_or_else(|| anonymous_key(&section, &title)),
        title,
        status,
        section,
        parent,
        line: item.line,
    });
}

/// `TASK-{SHORT}-{N}` anywhere in the text (a word of its own); the title is the rest.
fn task_id(text: &str) -> Option<(String, String)> {
    for (start, _) in text.match_indices("TASK-") {
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &text[start + 5..];
        let short_len = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        let after_short = &rest[short_len..];
        let Some(number) = after_short.strip_prefix('-') else {
            continue;
        };
        let digits = number
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(number.len());
        let after_ok = number[digits..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && short_len > 0 && digits > 0 && after_ok {
            let end = start + 5 + short_len + 1 + digits;
            let id = text[start..end].to_owned();
            let title = format!("{}{}", &text[..start], &text[end..]);
            let title = title
                .trim()
                .trim_matches(|c: char| c == ':' || c == '-' || c == '—' || c.is_whitespace());
            return Some((id, title.to_owned()));
        }
    }
    None
}

fn anonymous_key(section: &[String], title: &str) -> String {
    let mut hash = Sha256::new();
    for heading in section {
        hash.update(heading.to_lowercase().as_bytes());
        hash.update([0]);
    }
    hash.update(
        title
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
            .as_bytes(),
    );
    format!("anon-{}", &hex::encode(hash.finalize())[..12])
}

/// Items with the same section and title get `-2`, `-3`, … in document order.
fn disambiguate(tasks: &mut [Task]) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for task in tasks.iter_mut().filter(|t| !t.explicit) {
        let count = seen.entry(task.key.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            task.key = format!("{}-{count}", task.key);
        }
    }
}

/// Splits `---` front matter from the body; returns (front matter, body, lines before the body).
fn split_front_matter(text: &str) -> (Option<&str>, &str, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text, 0);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return (Some(front), body, front.lines().count() + 2);
        }
        offset += line.len();
    }
    (None, text, 0)
}

#[cfg(test)]
mod tests;
