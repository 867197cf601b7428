//! Go: `go.mod` (the `module` directive names the project; Go modules carry no version in go.mod)
//! and `go.work` (its `use` directives declare the workspace's modules). Both are read with a small
//! parser of Go's module-file grammar: directives, `(` blocks `)`, `//` comments, quoted paths.

use super::{Detector, Found, Tree, Workspace, join};

/// The Go detector.
pub struct Go;

impl Detector for Go {
    fn kind(&self) -> &'static str {
        "go"
    }

    fn reads(&self, file: &str) -> bool {
        file == "go.mod" || file == "go.work"
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let has_mod = files.contains(&"go.mod");
        let has_work = files.contains(&"go.work");
        if !has_mod && !has_work {
            return None;
        }
        let mut found = Found::default();
        if has_mod {
            let path = join(dir, "go.mod");
            let text = tree.text(&path);
            found.name = directives(&text, "module").into_iter().next();
            if found.name.is_none() {
                found.problems.push(format!("{path}: no module directive"));
            }
            found.manifests.push(path);
        }
        if has_work {
            let path = join(dir, "go.work");
            let text = tree.text(&path);
            let members = directives(&text, "use")
                .into_iter()
                .map(|m| m.trim_start_matches("./").to_owned())
                .collect();
            found.workspace = Some(Workspace {
                members,
                exclude: Vec::new(),
                version: None,
            });
            found.manifests.push(path);
        }
        Some(found)
    }
}

/// The first argument of every `verb` directive, single-line or in a `verb ( … )` block.
fn directives(text: &str, verb: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if in_block {
            if line == ")" {
                in_block = false;
            } else if let Some(first) = line.split_whitespace().next() {
                values.push(first.trim_matches('"').to_owned());
            }
            continue;
        }
        let mut words = line.split_whitespace();
        if words.next() != Some(verb) {
            continue;
        }
        match words.next() {
            Some("(") => in_block = true,
            Some(value) => values.push(value.trim_matches('"').to_owned()),
            None => {}
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn module_files_are_read_with_blocks_comments_and_quotes() {
        let work = "go 1.22\n\nuse (\n\t./api // the API\n\t\"./tools/gen\"\n)\nuse ./cmd\n";
        assert_eq!(directives(work, "use"), ["./api", "./tools/gen", "./cmd"]);
        assert_eq!(
            directives(
                "// module fake\nmodule example.com/acme/api // ours\n",
                "module"
            ),
            ["example.com/acme/api"]
        );
    }
}
