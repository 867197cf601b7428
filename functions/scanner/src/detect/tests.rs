//! Detection over trees built in the test, checked field by field against the output contract.

use super::*;

/// path, name, version, member of.
type Summary<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn project<'a>(projects: &'a [Project], path: &str, kind: &str) -> &'a Project {
    projects
        .iter()
        .find(|p| p.path == path && p.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} project at `{path}`: {projects:#?}"))
}

#[test]
fn a_cargo_workspace_yields_its_members_with_inherited_versions() {
    let tree = MemTree::of(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\", \"tools/cli\"]\nexclude = [\"crates/scratch\"]\n[workspace.package]\nversion = \"2.1.0\"\n",
        ),
        (
            "crates/core/Cargo.toml",
            "[package]\nname = \"acme-core\"\nversion.workspace = true\ndescription = \"The core\"\n",
        ),
        (
            "crates/web/Cargo.toml",
            "[package]\nname = \"acme-web\"\nversion = \"0.3.0\"\n",
        ),
        (
            "crates/scratch/Cargo.toml",
            "[package]\nname = \"scratch\"\nversion = \"0.0.1\"\n",
        ),
        (
            "tools/cli/Cargo.toml",
            "[package]\nname = \"acme\"\nversion = { workspace = true }\n",
        ),
        (
            "crates/core/examples/demo/Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        ),
        (
            "target/debug/build/x/Cargo.toml",
            "[package]\nname = \"generated\"\n",
        ),
    ]);
    let projects = detect(&tree);
    assert_eq!(projects.len(), 6, "{projects:#?}");
    let root = project(&projects, "", "cargo");
    assert_eq!(
        (
            root.name.as_deref(),
            root.version.as_deref(),
            root.member_of.as_deref(),
            root.parent_path.as_deref()
        ),
        (None, None, None, None)
    );
    let core = project(&projects, "crates/core", "cargo");
    assert_eq!(core.name.as_deref(), Some("acme-core"));
    assert_eq!(core.version.as_deref(), Some("2.1.0"));
    assert_eq!(core.description.as_deref(), Some("The core"));
    assert_eq!(
        (core.member_of.as_deref(), core.parent_path.as_deref()),
        (Some(""), Some(""))
    );
    assert_eq!(
        project(&projects, "crates/web", "cargo").version.as_deref(),
        Some("0.3.0")
    );
    assert_eq!(
        project(&projects, "tools/cli", "cargo").version.as_deref(),
        Some("2.1.0")
    );
    let scratch = project(&projects, "crates/scratch", "cargo");
    assert_eq!(
        (scratch.member_of.as_deref(), scratch.parent_path.as_deref()),
        (None, Some("")),
        "excluded, still under the root"
    );
    let demo = project(&projects, "crates/core/examples/demo", "cargo");
    assert_eq!(
        (demo.parent_path.as_deref(), demo.member_of.as_deref()),
        (Some("crates/core"), None)
    );
    assert_eq!(demo.tags, ["example"]);
}

#[test]
fn an_npm_workspace_merges_package_json_and_pnpm_workspace() {
    let tree = MemTree::of(&[
        (
            "package.json",
            r#"{"private": true, "workspaces": {"packages": ["apps/*"]}}"#,
        ),
        (
            "pnpm-workspace.yaml",
            "packages:\n  - 'packages/*'\n  - '!packages/legacy'\n",
        ),
        (
            "apps/site/package.json",
            r#"{"name": "@acme/site", "version": "1.0.0", "description": "The site"}"#,
        ),
        (
            "packages/ui/package.json",
            r#"{"name": "@acme/ui", "version": "3.2.1"}"#,
        ),
        (
            "packages/legacy/package.json",
            r#"{"name": "@acme/legacy", "version": "0.1.0"}"#,
        ),
        (
            "packages/ui/node_modules/left-pad/package.json",
            r#"{"name": "left-pad"}"#,
        ),
    ]);
    let projects = detect(&tree);
    assert_eq!(projects.len(), 4, "{projects:#?}");
    let root = project(&projects, "", "npm");
    assert_eq!(root.manifests, ["package.json", "pnpm-workspace.yaml"]);
    assert_eq!(root.name, None, "a nameless package.json has no name");
    assert_eq!(
        project(&projects, "apps/site", "npm").member_of.as_deref(),
        Some("")
    );
    let ui = project(&projects, "packages/ui", "npm");
    assert_eq!(
        (
            ui.name.as_deref(),
            ui.version.as_deref(),
            ui.member_of.as_deref()
        ),
        (Some("@acme/ui"), Some("3.2.1"), Some(""))
    );
    assert_eq!(project(&projects, "packages/legacy", "npm").member_of, None);
}

#[test]
fn task_lists_are_projects_and_broken_manifests_are_reported() {
    let tree = MemTree::of(&[
        (
            "tasklist.md",
            "---\nname: Master plan\ndescription: Everything\n---\n- [ ] TASK-M-1 Start\n",
        ),
        (
            "services/auth/tasklist.md",
            "---\nname: [broken\n---\n- [x] Done\n",
        ),
        (
            "services/auth/project-plan.md",
            "---\nname: Auth service\n---\n",
        ),
        ("services/auth/Cargo.toml", "[package\nname = "),
    ]);
    let projects = detect(&tree);
    let master = project(&projects, "", "tasklist");
    assert_eq!(
        (master.name.as_deref(), master.description.as_deref()),
        (Some("Master plan"), Some("Everything"))
    );
    let auth = project(&projects, "services/auth", "tasklist");
    assert_eq!(
        auth.name.as_deref(),
        Some("Auth service"),
        "the plan's front matter completes a broken one"
    );
    assert_eq!(auth.parent_path.as_deref(), Some(""));
    assert!(
        auth.problems[0].contains("front matter"),
        "{:?}",
        auth.problems
    );
    let cargo = project(&projects, "services/auth", "cargo");
    assert!(
        cargo.problems[0].starts_with("services/auth/Cargo.toml"),
        "{:?}",
        cargo.problems
    );
}

#[test]
fn a_uv_workspace_and_requirements_as_a_weak_manifest() {
    let tree = MemTree::of(&[
        (
            "pyproject.toml",
            "[project]\nname = \"acme\"\nversion = \"0.4.0\"\n[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
        ),
        (
            "packages/lib/pyproject.toml",
            "[project]\nname = \"acme-lib\"\ndynamic = [\"version\"]\n",
        ),
        ("packages/lib/requirements-dev.txt", "pytest\n"),
        ("scripts/requirements.txt", "requests\n"),
        (
            "legacy/pyproject.toml",
            "[tool.poetry]\nname = \"legacy\"\nversion = \"1.0\"\n",
        ),
    ]);
    let projects = detect(&tree);
    let summary: Vec<Summary<'_>> = projects
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.name.as_deref(),
                p.version.as_deref(),
                p.member_of.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("", Some("acme"), Some("0.4.0"), None),
            ("legacy", Some("legacy"), Some("1.0"), None),
            ("packages/lib", Some("acme-lib"), None, Some("")),
        ],
        "requirements files under a project are not projects of their own"
    );
}

#[test]
fn a_go_multi_module_repository_with_a_workspace() {
    let tree = MemTree::of(&[
        ("go.work", "go 1.22\nuse (\n\t./api\n\t./worker\n)\n"),
        ("api/go.mod", "module example.com/acme/api\n\ngo 1.22\n"),
        ("worker/go.mod", "module example.com/acme/worker\n"),
        ("tools/go.mod", "module example.com/acme/tools\n"),
    ]);
    let projects = detect(&tree);
    let summary: Vec<(&str, Option<&str>, Option<&str>)> = projects
        .iter()
        .map(|p| (p.path.as_str(), p.name.as_deref(), p.member_of.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("", None, None),
            ("api", Some("example.com/acme/api"), Some("")),
            ("tools", Some("example.com/acme/tools"), None),
            ("worker", Some("example.com/acme/worker"), Some("")),
        ]
    );
}

#[test]
fn todo_and_fixme_lines_count_for_the_nearest_project() {
    let tree = MemTree::of(&[
        ("Cargo.toml", "[workspace]\nmembers = [\"core\"]\n"),
        (
            "src/main.rs",
            "// TODO: one\n// TODO two TODO again on the same line\n// FIXME: broken\nlet TODOS = 1; // not a word\n",
        ),
        ("core/Cargo.toml", "[package]\nname = \"core\"\n"),
        ("core/src/lib.rs", "// FIXME and TODO on one line\n"),
        ("core/logo.png", "\u{0}TODO TODO"),
        ("node_modules/x/index.js", "// TODO vendored\n"),
    ]);
    let projects = detect(&tree);
    let counts: Vec<(&str, u32, u32)> = projects
        .iter()
        .map(|p| (p.path.as_str(), p.todo_count, p.fixme_count))
        .collect();
    assert_eq!(counts, [("", 2, 1), ("core", 1, 1)]);
}
