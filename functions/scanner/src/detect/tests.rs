//! Detection over trees built in the test, checked field by field against the output contract.

use super::*;

/// path, name, version, member of.
type Summary<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Each project's path, name, version and workspace.
fn summary(projects: &[Project]) -> Vec<Summary<'_>> {
    projects
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.name.as_deref(),
                p.version.as_deref(),
                p.member_of.as_deref(),
            )
        })
        .collect()
}

fn project<'a>(projects: &'a [Project], path: &str, kind: &str) -> &'a Project {
    projects
        .iter()
        .find(|p| p.path == path && p.has_type(kind))
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
    assert_eq!(projects.len(), 2, "{projects:#?}");
    let master = project(&projects, "", "tasklist");
    assert_eq!(
        (master.name.as_deref(), master.description.as_deref()),
        (Some("Master plan"), Some("Everything"))
    );
    let auth = project(&projects, "services/auth", "tasklist");
    assert_eq!(
        (auth.kind, &auth.types[..]),
        ("cargo", &["cargo", "tasklist"][..])
    );
    assert_eq!(
        auth.name.as_deref(),
        Some("Auth service"),
        "the plan's front matter completes a broken one, and names a manifest that does not"
    );
    assert_eq!(auth.parent_path.as_deref(), Some(""));
    assert_eq!(auth.problems.len(), 2, "{:?}", auth.problems);
    assert!(
        auth.problems[0].starts_with("services/auth/Cargo.toml"),
        "the strongest manifest's problems first: {:?}",
        auth.problems
    );
    assert!(
        auth.problems[1].contains("front matter"),
        "{:?}",
        auth.problems
    );
}

#[test]
fn a_directory_of_several_ecosystems_is_one_project_named_by_its_strongest_manifest() {
    let tree = MemTree::of(&[
        (
            "package.json",
            r#"{"name": "find-me-a-mechanic", "version": "0.4.0", "workspaces": ["web"]}"#,
        ),
        (
            "tasklist.md",
            "---\nname: Find Me A Mechanic\ndescription: Book a mechanic\n---\n- [ ] TASK-FMM-1 Search\n",
        ),
        ("Makefile", "all:\n"),
        (
            "web/package.json",
            r#"{"name": "@fmm/web", "description": "The site"}"#,
        ),
        (
            "web/Cargo.toml",
            "[package]\nname = \"fmm-wasm\"\nversion = \"0.1.0\"\n",
        ),
        ("web/tasklist.md", "- [ ] TASK-WEB-1 Pages\n"),
        ("notes/tasklist.md", "---\nname: Notes\n---\n"),
        ("notes/Makefile", "all:\n"),
    ]);
    let projects = detect(&tree);
    type Summary<'a> = (
        &'a str,
        &'a str,
        Vec<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let summary: Vec<Summary<'_>> = projects
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.kind,
                p.types.clone(),
                p.name.as_deref(),
                p.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "",
                "npm",
                vec!["npm", "tasklist"],
                Some("find-me-a-mechanic"),
                Some("0.4.0")
            ),
            ("notes", "tasklist", vec!["tasklist"], Some("Notes"), None),
            (
                "web",
                "cargo",
                vec!["cargo", "npm", "tasklist"],
                Some("fmm-wasm"),
                Some("0.1.0")
            ),
        ],
        "one project per directory; a Makefile under a project is no ecosystem of it"
    );
    let root = &projects[0];
    assert_eq!(root.manifests, ["package.json", "tasklist.md"]);
    assert_eq!(
        root.description.as_deref(),
        Some("Book a mechanic"),
        "the task list's front matter gives what no manifest states"
    );
    assert_eq!(root.task_list(), Some("tasklist.md"));
    let web = &projects[2];
    assert_eq!(
        web.manifests,
        ["web/Cargo.toml", "web/package.json", "web/tasklist.md"]
    );
    assert_eq!(web.description.as_deref(), Some("The site"));
    assert_eq!(
        (web.member_of.as_deref(), web.parent_path.as_deref()),
        (Some(""), Some("")),
        "a member of the npm workspace whichever ecosystem is its primary"
    );
    assert_eq!(web.task_list(), Some("web/tasklist.md"));
    assert_eq!(projects[1].task_list(), Some("notes/tasklist.md"));
    assert!(
        precedence("cargo") < precedence("npm")
            && precedence("backstage") < precedence("tasklist")
            && precedence("tasklist") < precedence("generic")
            && precedence("generic") < precedence(SUBMODULE)
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
    let summary = summary(&projects);
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

#[test]
fn a_maven_multi_module_build_inherits_from_its_parent_and_resolves_properties() {
    let tree = MemTree::of(&[
        (
            "pom.xml",
            r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>com.acme</groupId>
  <artifactId>acme-parent</artifactId>
  <version>3.4.0</version>
  <description>Acme, built by ${build.tool}</description>
  <properties><build.tool>Maven</build.tool><core.version>${project.version}</core.version><web.version>3.5.0</web.version></properties>
  <modules>
    <module>core</module>
    <module>web</module>
    <!-- <module>legacy</module> -->
  </modules>
</project>"#,
        ),
        (
            "core/pom.xml",
            r#"<project><parent><groupId>com.acme</groupId><artifactId>acme-parent</artifactId><version>3.4.0</version></parent>
  <artifactId>acme-core</artifactId><description>Core ${core.version} of ${build.tool}</description></project>"#,
        ),
        (
            "web/pom.xml",
            r#"<project><parent><artifactId>acme-parent</artifactId><version>3.4.0</version></parent>
  <artifactId>acme-web</artifactId><version>${web.version}-web</version></project>"#,
        ),
        (
            "legacy/pom.xml",
            r#"<project><artifactId>legacy</artifactId><version>${revision}</version></project>"#,
        ),
        ("broken/pom.xml", "<project><artifactId>x</project>"),
    ]);
    let projects = detect(&tree);
    let summary = summary(&projects);
    assert_eq!(
        summary,
        [
            ("", Some("acme-parent"), Some("3.4.0"), None),
            ("broken", None, None, None),
            ("core", Some("acme-core"), Some("3.4.0"), Some("")),
            ("legacy", Some("legacy"), None, None),
            ("web", Some("acme-web"), Some("3.5.0-web"), Some("")),
        ],
        "a commented-out module is no member; an unresolvable property is no version"
    );
    assert_eq!(
        project(&projects, "", "maven").description.as_deref(),
        Some("Acme, built by Maven")
    );
    assert_eq!(
        project(&projects, "core", "maven").description.as_deref(),
        Some("Core 3.4.0 of Maven"),
        "properties are inherited from the parent and resolved against the child"
    );
    assert!(!project(&projects, "broken", "maven").problems.is_empty());
}

#[test]
fn a_gradle_multi_project_build_with_included_builds_and_properties() {
    let tree = MemTree::of(&[
        (
            "settings.gradle.kts",
            "rootProject.name = \"acme\"\n// include(\":old\")\ninclude(\":app\", \":libs:util\")\nincludeBuild(\"tooling\")\n",
        ),
        (
            "gradle.properties",
            "# shared\nversion=1.8.0\ngroup=com.acme\n",
        ),
        ("build.gradle.kts", "plugins { java }\n"),
        (
            "app/build.gradle.kts",
            "description = \"The app\"\ndependencies { implementation(project(\":libs:util\")) }\n",
        ),
        ("libs/util/build.gradle", "version '2.0.1'\n"),
        ("tooling/settings.gradle", "rootProject.name = 'tooling'\n"),
        ("tooling/build.gradle", "version = computeVersion()\n"),
        ("old/build.gradle", ""),
    ]);
    let projects = detect(&tree);
    let summary = summary(&projects);
    assert_eq!(
        summary,
        [
            ("", Some("acme"), Some("1.8.0"), None),
            ("app", Some("app"), Some("1.8.0"), Some("")),
            ("libs/util", Some("util"), Some("2.0.1"), Some("")),
            ("old", Some("old"), None, None),
            ("tooling", Some("tooling"), None, Some("")),
        ]
    );
    assert_eq!(
        project(&projects, "app", "gradle").description.as_deref(),
        Some("The app")
    );
    assert_eq!(
        project(&projects, "", "gradle").manifests,
        [
            "settings.gradle.kts",
            "build.gradle.kts",
            "gradle.properties"
        ]
    );
}

#[test]
fn cargo_path_dependencies_inside_a_workspace_are_members() {
    let tree = MemTree::of(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"1.0.0\"\n[dependencies]\nhelper = { path = \"helper\" }\n[workspace]\n[workspace.package]\nversion = \"9.9.9\"\n",
        ),
        (
            "helper/Cargo.toml",
            "[package]\nname = \"helper\"\nversion.workspace = true\n[target.'cfg(unix)'.dev-dependencies]\ndeep = { path = \"../deep\" }\n",
        ),
        (
            "deep/Cargo.toml",
            "[package]\nname = \"deep\"\nversion = \"0.1.0\"\n",
        ),
        (
            "lone/Cargo.toml",
            "[package]\nname = \"lone\"\nversion = \"0.2.0\"\n",
        ),
    ]);
    let projects = detect(&tree);
    let members: Vec<(&str, Option<&str>, Option<&str>)> = projects
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.member_of.as_deref(),
                p.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("", None, Some("1.0.0")),
            ("deep", Some(""), Some("0.1.0")),
            ("helper", Some(""), Some("9.9.9")),
            ("lone", None, Some("0.2.0")),
        ],
        "path dependencies join transitively; a crate nothing depends on does not"
    );
}

#[test]
fn a_polyglot_repository_yields_one_project_per_directory() {
    let tree = MemTree::of(&[
        ("README.md", "# Acme\n"),
        ("Makefile", "all:\n"),
        (
            "dotnet/Api/Api.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><PackageId>Acme.Api</PackageId><Version>4.1.0</Version><Description>API</Description></PropertyGroup></Project>",
        ),
        (
            "dotnet/Tool/Tool.fsproj",
            "<Project><PropertyGroup><Version>$(AcmeVersion)</Version></PropertyGroup></Project>",
        ),
        (
            "php/composer.json",
            r#"{"name": "acme/site", "version": "2.0.0", "description": "Site"}"#,
        ),
        (
            "ruby/acme.gemspec",
            "Gem::Specification.new do |spec|\n  spec.name = \"acme\"\n  spec.version = Acme::VERSION\n  spec.summary = 'Acme gem'\nend\n",
        ),
        (
            "elixir/mix.exs",
            "defmodule Acme.Umbrella.MixProject do\n  use Mix.Project\n  def project do\n    [apps_path: \"apps\", version: \"0.1.0\"]\n  end\nend\n",
        ),
        (
            "elixir/apps/core/mix.exs",
            "defmodule Core.MixProject do\n  @version \"0.3.0\"\n  def project do\n    [app: :core, version: @version, description: \"Core\"]\n  end\nend\n",
        ),
        (
            "dart/pubspec.yaml",
            "name: acme_app\nversion: 1.2.3+4\ndescription: Flutter app\n",
        ),
        (
            "swift/Package.swift",
            "// swift-tools-version:5.9\nimport PackageDescription\nlet package = Package(\n    name: \"AcmeKit\",\n    products: []\n)\n",
        ),
        (
            "native/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.20)\n# project(Old)\nproject(AcmeNative VERSION 5.0.1 DESCRIPTION \"Native core\" LANGUAGES CXX)\nadd_subdirectory(src)\n",
        ),
        ("native/src/CMakeLists.txt", "add_library(core core.cpp)\n"),
        (
            "charts/acme/Chart.yaml",
            "apiVersion: v2\nname: acme\nversion: 0.9.0\ndescription: Acme chart\n",
        ),
        (
            "catalog-info.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: acme-system\n---\nkind: Component\nmetadata:\n  name: acme\n  description: The Acme service\n",
        ),
        (
            "py/setup.py",
            "from setuptools import setup\nsetup(\n    name='acme-py',\n    version=get_version(),\n    description=\"Legacy\",\n)\n",
        ),
        ("py/setup.cfg", "[metadata]\nversion = 0.7.0\n"),
        ("tools/Makefile", "x:\n"),
    ]);
    let projects = detect(&tree);
    let summary: Vec<(&str, &str, Option<&str>, Option<&str>)> = projects
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.kind,
                p.name.as_deref(),
                p.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("", "backstage", Some("acme"), None),
            ("charts/acme", "helm", Some("acme"), Some("0.9.0")),
            ("dart", "dart", Some("acme_app"), Some("1.2.3+4")),
            ("dotnet/Api", "dotnet", Some("Acme.Api"), Some("4.1.0")),
            ("dotnet/Tool", "dotnet", Some("Tool"), None),
            ("elixir", "mix", None, Some("0.1.0")),
            ("elixir/apps/core", "mix", Some("core"), Some("0.3.0")),
            ("native", "cmake", Some("AcmeNative"), Some("5.0.1")),
            ("php", "composer", Some("acme/site"), Some("2.0.0")),
            ("py", "python", Some("acme-py"), Some("0.7.0")),
            ("ruby", "gem", Some("acme"), None),
            ("swift", "swift", Some("AcmeKit"), None),
        ],
        "weak manifests (Makefiles, a CMakeLists without project()) under a project are no projects"
    );
    assert_eq!(
        project(&projects, "elixir/apps/core", "mix")
            .member_of
            .as_deref(),
        Some("elixir")
    );
    assert_eq!(
        project(&projects, "", "backstage").description.as_deref(),
        Some("The Acme service")
    );
    assert_eq!(
        project(&projects, "py", "python").manifests,
        ["py/setup.cfg", "py/setup.py"]
    );
}

#[test]
fn a_readme_only_root_is_a_generic_project_and_makefiles_are_weak() {
    let tree = MemTree::of(&[("README.md", "# Notes\n"), ("scripts/Makefile", "all:\n")]);
    let projects = detect(&tree);
    let summary: Vec<(&str, &str, Option<&str>)> = projects
        .iter()
        .map(|p| (p.path.as_str(), p.kind, p.parent_path.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [("", "generic", None)],
        "a Makefile under the generic root is not a project of its own"
    );
}

#[test]
fn the_repository_config_file_merges_skip_and_tag_lists_with_the_defaults() {
    let files = [
        (
            ".dashboard.toml",
            "[scan]\nskip = [\"generated\", \"!build\"]\n[scan.tags]\ndemos = \"example\"\ntests = \"\"\n",
        ),
        ("generated/api/package.json", r#"{"name": "gen"}"#),
        ("build/tool/package.json", r#"{"name": "tool"}"#),
        ("demos/one/package.json", r#"{"name": "one"}"#),
        ("tests/e2e/package.json", r#"{"name": "e2e"}"#),
        ("examples/x/package.json", r#"{"name": "x"}"#),
    ];
    let projects = detect(&MemTree::of(&files));
    let summary: Vec<(&str, Vec<String>)> = projects
        .iter()
        .map(|p| (p.path.as_str(), p.tags.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("build/tool", vec![]),
            ("demos/one", vec!["example".to_owned()]),
            ("examples/x", vec!["example".to_owned()]),
            ("tests/e2e", vec![]),
        ]
    );
    let mut broken = MemTree::of(&files);
    broken
        .0
        .insert(".dashboard.toml".into(), b"[scan]\nskipp = 1\n".to_vec());
    broken
        .0
        .insert("package.json".into(), br#"{"name": "root"}"#.to_vec());
    let projects = detect(&broken);
    let root = project(&projects, "", "npm");
    assert!(
        root.problems[0].starts_with(".dashboard.toml: unknown field"),
        "{:?}",
        root.problems
    );
    assert!(
        projects.iter().all(|p| p.path != "build/tool"),
        "the defaults apply"
    );
}

#[test]
fn parallel_map_keeps_the_order_of_its_items_whatever_each_one_costs() {
    let items: Vec<u64> = (0..500).collect();
    let squares = parallel_map(&items, |&i| {
        // Uneven work, so that threads finish out of order.
        if i % 7 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        i * i
    });
    assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
    assert!(parallel_map(&[] as &[u8], |_| ()).is_empty());
}

#[test]
fn the_owner_found_walking_up_is_the_deepest_project_above_the_file() {
    let owners = owners(
        ["", "a", "a/b", "a/b/c", "ab", "x/y", "vendor/lib"]
            .into_iter()
            .map(str::to_owned),
    );
    let by_dir: HashMap<&str, &String> = owners.iter().map(|o| (o.as_str(), o)).collect();
    let rules = ScanRules::default();
    for path in [
        "README.md",
        "a/f.rs",
        "a/b/f.rs",
        "a/b/c/d/e/f.rs",
        "ab/f.rs",
        "abc/f.rs",
        "a/bc/f.rs",
        "x/f.rs",
        "x/y/z/f.rs",
        "vendor/lib/f.rs",
        "a/node_modules/p/f.js",
    ] {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        assert_eq!(
            deepest_owner(dir, &by_dir, &rules),
            owner_of(path, &owners, &rules),
            "{path}"
        );
    }
}
