//! The committed query data of sqlx's compile-time-checked macros (`.sqlx/`, written by
//! `scripts/sqlx-prepare`) matches the migrated schema and the code: every stored query still
//! describes the same columns, types and parameters, with no column the code takes as present now nullable, against the database, and still
//! appears in a source file (a stale file would hide a query's drift).

use std::path::{Path, PathBuf};

use serde_json::Value;
use sqlx::{Column as _, Executor as _, PgPool, SqlSafeStr as _, TypeInfo as _};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `TEXT[]` and `TextArray` alike: lowercase letters and digits, arrays spelled out.
fn type_name(name: &str) -> String {
    name.replace("[]", "array")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") && !path.ends_with("node_modules") {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_committed_query_data_matches_the_schema_and_the_code(admin: PgPool) {
    let root = workspace();
    let mut code = String::new();
    for dir in ["shared", "functions", "local"] {
        sources(&root.join(dir), &mut code);
    }
    let mut conn = admin.acquire().await.unwrap();
    conn.execute("set search_path to app").await.unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(root.join(".sqlx")).unwrap().flatten() {
        let stored: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let query = stored["query"].as_str().unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !code.contains(query) {
            problems.push(format!(
                "{name}: its query is in no source file (run scripts/sqlx-prepare)"
            ));
            continue;
        }
        // The stored text, as the macros prepared it (no caller input).
        let sql = sqlx::AssertSqlSafe(query.to_owned()).into_sql_str();
        let described = match conn.describe(sql).await {
            Ok(described) => described,
            Err(error) => {
                problems.push(format!("{name}: {error}"));
                continue;
            }
        };
        let columns: Vec<(String, String)> = described
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), type_name(c.type_info().name())))
            .collect();
        let expected: Vec<(String, String)> = stored["describe"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    type_name(c["type_info"].as_str().unwrap_or_default()),
                )
            })
            .collect();
        if columns != expected {
            problems.push(format!("{name}: columns {columns:?}, stored {expected:?}"));
        }
        let nullable: Vec<Option<bool>> =
            (0..columns.len()).map(|i| described.nullable(i)).collect();
        let stored_nullable: Vec<Option<bool>> = stored["describe"]["nullable"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_bool)
            .collect();
        // The dangerous drift: a column the code decodes as present that may now be null.
        let now_nullable: Vec<usize> = (0..nullable.len())
            .filter(|&i| {
                nullable[i] == Some(true)
                    && stored_nullable.get(i).copied().flatten() == Some(false)
            })
            .collect();
        if !now_nullable.is_empty() {
            problems.push(format!("{name}: columns {now_nullable:?} may now be null"));
        }
        let parameters: Vec<String> = match described.parameters() {
            Some(sqlx::Either::Left(types)) => types.iter().map(|t| type_name(t.name())).collect(),
            _ => Vec::new(),
        };
        let stored_parameters: Vec<String> = stored["describe"]["parameters"]["Left"]
            .as_array()
            .map(|types| {
                types
                    .iter()
                    .map(|t| type_name(t.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        if parameters != stored_parameters {
            problems.push(format!(
                "{name}: parameters {parameters:?}, stored {stored_parameters:?}"
            ));
        }
        checked += 1;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 7, "checked {checked} stored queries");
}
