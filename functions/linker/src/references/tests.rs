//! Every form the parser knows, including the tricky ones.

use super::*;

fn task(id: &str) -> Target {
    Target::Task(id.to_owned())
}

fn number(n: u64) -> Target {
    Target::GitHub {
        repository: None,
        number: n,
    }
}

fn github(repository: &str, n: u64) -> Target {
    Target::GitHub {
        repository: Some(repository.to_owned()),
        number: n,
    }
}

fn key(k: &str) -> Target {
    Target::Key(k.to_owned())
}

fn found(text: &str) -> Vec<(Target, Relation)> {
    parse(text)
        .into_iter()
        .map(|r| (r.target, r.relation))
        .collect()
}

use Relation::{Closes, References};

#[test]
fn github_closing_keywords_in_every_case_and_with_colons() {
    assert_eq!(
        found("Fixes #10, resolves octo-org/octo-repo#100. CLOSES: #7"),
        [
            (number(10), Closes),
            (github("octo-org/octo-repo", 100), Closes),
            (number(7), Closes)
        ]
    );
    for word in [
        "close",
        "closes",
        "closed",
        "fix",
        "fixes",
        "fixed",
        "resolve",
        "resolves",
        "resolved",
        "Closing",
        "FIXING",
        "Resolving",
    ] {
        assert_eq!(
            found(&format!("{word} #3")),
            [(number(3), Closes)],
            "{word}"
        );
        assert_eq!(
            found(&format!("{word}: #3")),
            [(number(3), Closes)],
            "{word}:"
        );
    }
    assert_eq!(
        found("Closes issue #5"),
        [(number(5), Closes)],
        "GitLab's form"
    );
    assert_eq!(found("See GH-8"), [(number(8), References)]);
}

#[test]
fn one_keyword_covers_a_list_except_for_github_numbers() {
    assert_eq!(
        found("Fixes #1, #2 and fixes #3"),
        [
            (number(1), Closes),
            (number(2), References),
            (number(3), Closes)
        ]
    );
    assert_eq!(
        found("Closes TASK-AUTH-1, TASK-AUTH-2 and TASK-AUTH-3; refs TASK-AUTH-4"),
        [
            (task("TASK-AUTH-1"), Closes),
            (task("TASK-AUTH-2"), Closes),
            (task("TASK-AUTH-3"), Closes),
            (task("TASK-AUTH-4"), References)
        ]
    );
    assert_eq!(
        found("Fixes ENG-123, DES-5 & ENG-256. Part of ENG-9."),
        [
            (key("ENG-123"), Closes),
            (key("DES-5"), Closes),
            (key("ENG-256"), Closes),
            (key("ENG-9"), References)
        ]
    );
    assert_eq!(
        found("Fixed AB#123, AB#124"),
        [
            (Target::AzureBoards(123), Closes),
            (Target::AzureBoards(124), References)
        ]
    );
}

#[test]
fn gitlab_and_linear_closing_words() {
    assert_eq!(
        found("Fix #20, Fixes #21 and Closes #22. Implements ABC-4"),
        [
            (number(20), Closes),
            (number(21), Closes),
            (number(22), Closes),
            (key("ABC-4"), Closes)
        ]
    );
    assert_eq!(
        found("completes LIN-7, implemented: TASK-UI-2"),
        [(key("LIN-7"), Closes), (task("TASK-UI-2"), Closes)]
    );
}

#[test]
fn the_most_specific_pattern_masks_what_it_matched() {
    assert_eq!(
        found("TASK-AUTH-12: log in with Google"),
        [(task("TASK-AUTH-12"), References)],
        "AUTH-12 is not a second reference"
    );
    assert_eq!(
        found("acme/api#12 and #12"),
        [
            (github("acme/api", 12), References),
            (number(12), References)
        ]
    );
    assert_eq!(found("AB#5"), [(Target::AzureBoards(5), References)]);
}

#[test]
fn urls_of_issues_pull_requests_and_trackers() {
    assert_eq!(
        found(
            "Fixes https://github.com/acme/api/issues/12\n\
             See https://github.com/acme/web/pull/7#issuecomment-99 and\n\
             https://acme.atlassian.net/browse/ABC-123 and https://linear.app/acme/issue/ENG-42/log-in\n\
             Docs: https://example.com/guide#3 and https://example.com/ABC-9"
        ),
        [
            (github("acme/api", 12), Closes),
            (github("acme/web", 7), References),
            (key("ABC-123"), References),
            (key("ENG-42"), References)
        ],
        "other URLs hold no references, whatever they contain"
    );
}

#[test]
fn code_blocks_inline_code_and_quotes_are_never_read() {
    let message = "Refactor the parser\n\n```\nFixes #1\n```\nUse `#2` here.\n> Fixes #3\n  > TASK-AUTH-1\n~~~rust\nlet x = ABC-4;\n~~~\nRefs #5";
    assert_eq!(found(message), [(number(5), References)]);
}

#[test]
fn what_looks_like_a_reference_but_is_not() {
    assert_eq!(found("Bump to CVE-2024-3094 fix"), []);
    assert_eq!(found("escape &#12; and issue#4 and v1.2#3"), []);
    assert_eq!(
        found("UTF-8 handling"),
        [(key("UTF-8"), References)],
        "unknown prefixes are dropped when resolving, not here"
    );
    assert_eq!(found("lower-case abc-12 is not a key"), []);
    assert_eq!(found("fixes nothing; #"), []);
}

#[test]
fn a_target_is_listed_once_and_closing_wins() {
    assert_eq!(
        found("Refs #1. Later: fixes #1. Again #1"),
        [(number(1), Closes)]
    );
}

#[test]
fn branch_names_reference_our_ids_and_keys() {
    let branch = |name: &str| parse_branch(name).map(|r| (r.target, r.relation));
    assert_eq!(
        branch("feature/task-auth-12-google-login"),
        Some((task("TASK-AUTH-12"), References))
    );
    assert_eq!(
        branch("refs/heads/TASK-UI-3"),
        Some((task("TASK-UI-3"), References))
    );
    assert_eq!(branch("eng-123-title"), Some((key("ENG-123"), References)));
    assert_eq!(branch("main"), None);
    assert_eq!(branch("cve-2024-1"), None);
}

#[test]
fn only_the_first_64_kib_of_a_text_are_read() {
    // A megabyte of distinct references, as a hostile commit message could carry: every one of them
    // used to be compared with every other (and the whole text before each re-read for a closing
    // word), which stalled a worker.
    let mut text = String::from("Fixes: ");
    let mut inside = 0;
    for n in 1..=150_000 {
        text.push_str(&format!("ENG-{n}, "));
        if text.len() <= MAX_TEXT_BYTES {
            inside = n;
        }
    }
    assert!(text.len() > 1_000_000);
    let references = parse(&text);
    assert_eq!(references.len(), inside);
    assert_eq!(
        references[0],
        Reference {
            target: key("ENG-1"),
            relation: Closes
        }
    );
    // One closing word covers the whole list, however long.
    assert!(references.iter().all(|r| r.relation == Closes));
    assert_eq!(
        references.last().unwrap().target,
        key(&format!("ENG-{inside}"))
    );
}

#[test]
fn a_closing_word_is_looked_for_just_before_a_reference() {
    // Far into a long message, the words right before a reference still decide.
    let preamble = "Some context. ".repeat(500);
    assert_eq!(
        found(&format!("{preamble}Closes:   issue #4")),
        [(number(4), Closes)]
    );
    // The look-behind never cuts a word in two: `prefixes` does not end in the word `fixes`.
    let spaces = " ".repeat(59);
    assert_eq!(
        found(&format!("prefixes{spaces}#5")),
        [(number(5), References)]
    );
}

#[test]
fn many_code_spans_hide_what_they_hold() {
    let text = format!("{}Fixes #7 `#8`", "`#1` x ".repeat(5_000));
    assert_eq!(found(&text), [(number(7), Closes)]);
}
