//! `dashboard eval-linker` on a benchmark folder made in the test: the metrics of a case whose
//! answer is known, the JSON shape, and clear errors for a directory that is not a benchmark.

use std::process::Command;

use serde_json::Value;

fn dashboard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn eval_linker_reports_the_protocol_per_project_and_variant() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("demo");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("issues.jsonl"),
        "{\"id\":\"D-1\",\"title\":\"Login page rejects valid passwords\",\"release\":\"1\"}\n\
         {\"id\":\"D-2\",\"title\":\"Database migration is slow\",\"release\":\"1\"}\n",
    )
    .unwrap();
    std::fs::write(
        project.join("commits.jsonl"),
        "{\"sha\":\"a1\",\"message\":\"Login page rejects valid passwords. Contributed by Ann.\",\"message_hard\":\"Contributed by Ann.\",\"files\":[],\"committed_at\":\"2020-01-01T00:00:00Z\"}\n\
         {\"sha\":\"b2\",\"message\":\"Database migration is slow: batch the updates\",\"message_hard\":\"batch the updates\",\"files\":[],\"committed_at\":\"2020-01-02T00:00:00Z\"}\n",
    )
    .unwrap();
    std::fs::write(
        project.join("pairs.jsonl"),
        "{\"sha\":\"a1\",\"issue_id\":\"D-1\",\"label\":1}\n{\"sha\":\"a1\",\"issue_id\":\"D-2\",\"label\":0}\n\
         {\"sha\":\"b2\",\"issue_id\":\"D-2\",\"label\":1}\n{\"sha\":\"b2\",\"issue_id\":\"D-1\",\"label\":0}\n",
    )
    .unwrap();

    let output = dashboard(&["eval-linker", dir.path().to_str().unwrap(), "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    let message = &results["demo"]["message"];
    for metric in ["precision", "recall", "f1", "auc"] {
        assert_eq!(message[metric], 1.0, "{metric}: {results:#}");
    }
    let tuned = message["fold_tuned"]["f1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&tuned), "{results:#}");
    let hard = &results["demo"]["message_hard"];
    assert_eq!(hard["recall"], 0.0, "nothing is left to match: {results:#}");
    assert_eq!(hard["auc"], 0.5);

    let table = dashboard(&["eval-linker", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("demo") && l.contains("message_hard"))
    );

    let missing = dashboard(&["eval-linker", "/no/such/benchmark"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /no/such/benchmark"));
    let empty = tempfile::tempdir().unwrap();
    let none = dashboard(&["eval-linker", empty.path().to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no project folder"));
}
