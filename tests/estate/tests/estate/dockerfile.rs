//! The Dockerfile: one final stage per workspace binary (the functions and `migrate` for
//! `dashboard`), each running that binary as a non-root user, git nowhere and ssh only in the
//! scanner.

use std::collections::{BTreeMap, BTreeSet};

/// One `FROM … AS name` stage and its instructions (keyword upper-cased, arguments as written).
#[derive(Debug)]
pub struct Stage {
    /// Its name (`AS`), or its index when unnamed.
    pub name: String,
    /// What it is built `FROM`: an image or an earlier stage.
    pub from: String,
    /// `(INSTRUCTION, arguments)`, continuation lines joined.
    pub instructions: Vec<(String, String)>,
}

impl Stage {
    fn last(&self, keyword: &str) -> Option<&str> {
        self.instructions
            .iter()
            .rev()
            .find(|(k, _)| k == keyword)
            .map(|(_, args)| args.as_str())
    }
}

/// The Dockerfile's stages, in order.
pub fn stages() -> Vec<Stage> {
    let text = crate::read("Dockerfile");
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(continued) = trimmed.strip_suffix('\\') {
            current.push_str(continued);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            logical.push(std::mem::take(&mut current));
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args = args.trim().to_owned();
        if keyword == "FROM" {
            let words: Vec<&str> = args.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, r#as, name] if r#as.eq_ignore_ascii_case("as") => (*name).to_owned(),
                _ => stages.len().to_string(),
            };
            stages.push(Stage {
                name,
                from: words[0].to_owned(),
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push((keyword, args));
        }
    }
    stages
}

/// The stages a `docker build --target` ends in: those with an ENTRYPOINT.
fn final_stages(stages: &[Stage]) -> BTreeMap<&str, &Stage> {
    stages
        .iter()
        .filter(|s| s.last("ENTRYPOINT").is_some())
        .map(|s| (s.name.as_str(), s))
        .collect()
}

/// The image targets the Dockerfile offers.
pub fn targets() -> BTreeSet<String> {
    final_stages(&stages())
        .keys()
        .map(|name| (*name).to_owned())
        .collect()
}

/// The effective USER of a stage: its own last one, else its parent stage's.
fn user<'a>(stages: &'a [Stage], stage: &'a Stage) -> Option<&'a str> {
    stage.last("USER").or_else(|| {
        stages
            .iter()
            .find(|s| s.name == stage.from)
            .and_then(|parent| user(stages, parent))
    })
}

/// The image a stage finally rests on, following stage names.
fn base<'a>(stages: &'a [Stage], stage: &'a Stage) -> &'a str {
    match stages.iter().find(|s| s.name == stage.from) {
        Some(parent) => base(stages, parent),
        None => &stage.from,
    }
}

/// The program an ENTRYPOINT (exec form) runs, and its arguments.
fn entrypoint(stage: &Stage) -> Vec<String> {
    let raw = stage.last("ENTRYPOINT").unwrap();
    serde_json::from_str(raw).unwrap_or_else(|_| {
        panic!(
            "{}: ENTRYPOINT must be the exec (JSON) form, got {raw}",
            stage.name
        )
    })
}

#[test]
fn each_workspace_binary_has_a_final_stage_that_runs_it() {
    let stages = stages();
    let finals = final_stages(&stages);
    assert_eq!(
        finals.keys().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(["api", "linker", "migrate", "scanner", "webhook"])
    );
    let mut run: BTreeSet<String> = BTreeSet::new();
    for (name, stage) in &finals {
        let command = entrypoint(stage);
        let binary = command[0].rsplit('/').next().unwrap().to_owned();
        // The binary it runs is the one it copies from the build.
        assert!(
            stage.instructions.iter().any(|(k, args)| k == "COPY"
                && args.contains("--from=builder")
                && args.ends_with(&command[0])),
            "{name}: runs {} but does not copy it from the builder",
            command[0]
        );
        if *name == "migrate" {
            assert_eq!(
                command[1..],
                ["migrate"],
                "migrate runs `dashboard migrate`"
            );
        } else {
            assert_eq!(binary, format!("dashboard-{name}"), "{name}");
            assert_eq!(command.len(), 1, "{name}: the command is the binary");
        }
        run.insert(binary);
    }
    assert_eq!(
        run,
        crate::workspace_binaries(),
        "the final stages run exactly the workspace's binaries"
    );
    // One build of every binary, on a cargo-chef dependency layer.
    let builder = stages.iter().find(|s| s.name == "builder").unwrap();
    let runs: Vec<&str> = builder
        .instructions
        .iter()
        .filter(|(k, _)| k == "RUN")
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo chef cook --release --locked"))
    );
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo build --release --locked --workspace --bins"))
    );
}

#[test]
fn every_final_stage_is_distroless_and_runs_as_a_non_root_user() {
    let stages = stages();
    for (name, stage) in final_stages(&stages) {
        let user = user(&stages, stage).unwrap_or_else(|| panic!("{name}: no USER (root)"));
        let uid = user.split(':').next().unwrap();
        assert!(!["root", "0", ""].contains(&uid), "{name}: runs as {user}");
        assert!(
            base(&stages, stage).starts_with("gcr.io/distroless/"),
            "{name}: built on {}",
            base(&stages, stage)
        );
    }
}

#[test]
fn git_is_in_no_image_and_ssh_only_in_the_scanners() {
    let stages = stages();
    let text = crate::read("Dockerfile");
    assert!(
        !text.contains("apt-get install -y --no-install-recommends git") && !text.contains(" git "),
        "no function shells out to git"
    );
    for (name, stage) in final_stages(&stages) {
        let takes_ssh = stage
            .instructions
            .iter()
            .any(|(k, args)| k == "COPY" && args.contains("--from=ssh"));
        assert_eq!(takes_ssh, name == "scanner", "{name}");
    }
}
