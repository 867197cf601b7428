//! `dashboard scan PATH [--json]`: the projects a local git repository holds at a commit, read from
//! its object database with the scanner's own detectors.

use std::path::PathBuf;

use dashboard_scanner::{detect::detect, git::GitTree};

/// Options of `dashboard scan`.
#[derive(clap::Args)]
pub struct Args {
    /// A local git repository (bare or not).
    path: PathBuf,
    /// The commit to read (a branch, tag or SHA); default HEAD.
    #[arg(long)]
    rev: Option<String>,
    /// Print JSON (the scanner's output contract) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Scans and prints.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let tree = GitTree::open(&args.path, args.rev.as_deref())?;
    let projects = detect(&tree);
    if args.json {
        let output = serde_json::json!({ "commit": tree.commit.to_string(), "projects": projects, "skipped": tree.skipped() });
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    println!(
        "{:<40} {:<10} {:<30} {:<12} MEMBER OF",
        "PATH", "TYPE", "NAME", "VERSION"
    );
    for p in &projects {
        let path = if p.path.is_empty() {
            "."
        } else {
            p.path.as_str()
        };
        println!(
            "{:<40} {:<10} {:<30} {:<12} {}",
            path,
            p.kind,
            p.name.as_deref().unwrap_or("-"),
            p.version.as_deref().unwrap_or("-"),
            p.member_of
                .as_deref()
                .map_or("-", |m| if m.is_empty() { "." } else { m })
        );
        for problem in &p.problems {
            eprintln!("warning: {problem}");
        }
    }
    for skipped in tree.skipped() {
        eprintln!("skipped: {skipped}");
    }
    eprintln!("{} projects at {}", projects.len(), tree.commit);
    Ok(())
}
