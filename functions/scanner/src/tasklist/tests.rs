//! The task format's cases, one by one.

use super::*;

const EXAMPLE: &str = "---
name: Authentication
short_name: AUTH
description: Sign-in with GitHub, Google or a password.
status: active
owner: platform-team
---
# Authentication

## Sign-in
- [x] TASK-AUTH-1: GitHub OAuth
- [ ] TASK-AUTH-2 Google OAuth
  - [ ] Register the consent screen
  - [x] Store refresh tokens
- [~] Password reset emails

## Hardening
- [ ] Rate-limit `/login`
- [-] MFA with TOTP (TASK-AUTH-7)
- plain bullet, not a task
";

#[test]
fn front_matter_describes_the_project() {
    let list = parse(EXAMPLE);
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    let front = list.front_matter.unwrap();
    assert_eq!(front.name.as_deref(), Some("Authentication"));
    assert_eq!(front.short_name.as_deref(), Some("AUTH"));
    assert_eq!(front.owner.as_deref(), Some("platform-team"));
}

#[test]
fn checklist_items_become_tasks_with_ids_status_sections_and_nesting() {
    let tasks = parse(EXAMPLE).tasks;
    let summary: Vec<(&str, &str, TaskStatus, Option<usize>, usize)> = tasks
        .iter()
        .map(|t| (t.key.as_str(), t.title.as_str(), t.status, t.parent, t.line))
        .collect();
    assert_eq!(summary.len(), 7, "{summary:#?}");
    assert_eq!(
        summary[0],
        ("TASK-AUTH-1", "GitHub OAuth", TaskStatus::Done, None, 11)
    );
    assert_eq!(
        summary[1],
        ("TASK-AUTH-2", "Google OAuth", TaskStatus::Open, None, 12)
    );
    assert_eq!(
        (summary[2].1, summary[2].2, summary[2].3),
        ("Register the consent screen", TaskStatus::Open, Some(1))
    );
    assert_eq!(
        (summary[3].1, summary[3].2, summary[3].3),
        ("Store refresh tokens", TaskStatus::Done, Some(1))
    );
    assert_eq!(
        (summary[4].1, summary[4].2),
        ("Password reset emails", TaskStatus::InProgress)
    );
    assert_eq!(summary[5].1, "Rate-limit /login");
    assert_eq!(
        (summary[6].0, summary[6].1, summary[6].2),
        ("TASK-AUTH-7", "MFA with TOTP ()", TaskStatus::InProgress)
    );
    assert_eq!(tasks[0].section, ["Authentication", "Sign-in"]);
    assert_eq!(tasks[5].section, ["Authentication", "Hardening"]);
    assert!(tasks[2].key.starts_with("anon-") && !tasks[2].explicit);
}

#[test]
fn keys_without_ids_survive_moved_lines_but_not_moved_sections() {
    let before = parse("# A\n- [ ] Write docs\n- [ ] Ship it\n");
    let after = parse("# A\n\nIntro paragraph.\n\n- [ ] Ship it\n- [x] Write   docs\n");
    let key = |list: &TaskList, index: usize| list.tasks[index].key.clone();
    assert_eq!(
        key(&before, 0),
        key(&after, 1),
        "moved and checked, same task"
    );
    assert_eq!(key(&before, 1), key(&after, 0));
    let moved = parse("# B\n- [ ] Ship it\n");
    assert_ne!(
        key(&before, 1),
        key(&moved, 0),
        "another section is another task"
    );
}

#[test]
fn repeated_titles_get_distinct_keys() {
    let tasks = parse("- [ ] Review\n- [ ] Review\n- [ ] Review\n").tasks;
    let keys: std::collections::HashSet<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys.len(), 3);
}

#[test]
fn malformed_front_matter_is_reported_and_tasks_still_parse() {
    let list = parse("---\nname: [unclosed\n---\n- [ ] TASK-X-1 still here\n");
    assert_eq!(list.front_matter, None);
    assert_eq!(list.problems.len(), 1);
    assert!(
        list.problems[0].contains("front matter"),
        "{:?}",
        list.problems
    );
    assert_eq!(list.tasks[0].key, "TASK-X-1");
    assert_eq!(list.tasks[0].line, 4);
}

#[test]
fn ids_must_stand_alone() {
    for (text, expected) in [
        ("- [ ] MYTASK-AUTH-1 no", None),
        ("- [ ] TASK-AUTH-1x no", None),
        ("- [ ] TASK-auth-1 no", None),
        (
            "- [ ] TASK-AUTH_2-10 — with underscore",
            Some("TASK-AUTH_2-10"),
        ),
        ("- [ ] see TASK-DB-3.", Some("TASK-DB-3")),
    ] {
        let tasks = parse(text).tasks;
        assert_eq!(
            tasks[0].explicit.then(|| tasks[0].key.as_str()),
            expected,
            "{text}"
        );
    }
}

#[test]
fn uppercase_x_is_done_and_a_file_without_front_matter_parses() {
    let list = parse("* [X] Done thing\n");
    assert_eq!(list.front_matter, None);
    assert_eq!(list.tasks[0].status, TaskStatus::Done);
}
