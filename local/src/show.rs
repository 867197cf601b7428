//! `dashboard show --tenant SLUG [--json] [--commits N]`: an organization's totals, its project tree
//! with task counts and completion, and its recent commits with their links — read through the API's
//! own queries (the overview's totals, the project tree, the first page of the commit list), not a
//! second implementation.

use crate::output::outln;
use dashboard_api::api::{
    commits::{
        db::list_commits,
        model::{Commit, CommitQuery},
    },
    overview::db::count_totals,
    pagination::PageRequest,
    projects::{db::project_tree, model::ProjectNode},
};
use dashboard_shared::domain::LinkState;
use serde_json::json;

use crate::system::System;

/// Options of `dashboard show`.
#[derive(clap::Args)]
pub struct Args {
    /// The organization's slug.
    #[arg(long)]
    tenant: String,
    /// Print `{tenant, totals, projects: [tree], commits: [...]}` as JSON.
    #[arg(long)]
    json: bool,
    /// How many recent commits to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=200))]
    commits: u32,
}

/// Reads and prints.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let system = System::open().await?;
    let result = show(&system, &args).await;
    system.close().await?;
    result
}

async fn show(system: &System, args: &Args) -> anyhow::Result<()> {
    let tenant = system.tenant(&args.tenant).await?;
    let mut tx = system.db.tenant(tenant).await?;
    let totals = count_totals(&mut tx).await?;
    let projects = project_tree(&mut tx, None).await?;
    let commits = if args.commits == 0 {
        Vec::new()
    } else {
        let page = PageRequest {
            limit: args.commits,
            after: None,
        };
        let mut commits = list_commits(&mut tx, &CommitQuery::default(), &page).await?;
        commits.truncate(args.commits as usize);
        commits
    };
    tx.commit().await?;
    if args.json {
        let output = json!({
            "tenant": args.tenant,
            "totals": totals,
            "projects": projects,
            "commits": commits,
        });
        outln!("{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(());
    }
    outln!(
        "{}: {} repositories, {} projects, {} tasks ({} done), {} commits, {} links, {} suggestions",
        args.tenant,
        totals.repositories,
        totals.projects,
        totals.tasks,
        totals.tasks_done,
        totals.commits,
        totals.links,
        totals.suggestions
    )?;
    if !projects.is_empty() {
        outln!("\n{:<56} {:<14} {:>11}", "PROJECT", "TYPE", "TASKS DONE")?;
        for project in &projects {
            print_project(project, 0)?;
        }
    }
    if !commits.is_empty() {
        outln!("\nRECENT COMMITS")?;
        for commit in &commits {
            print_commit(commit)?;
        }
    }
    Ok(())
}

fn print_project(project: &ProjectNode, depth: usize) -> std::io::Result<()> {
    let place = if project.path.is_empty() {
        project.repository.clone()
    } else {
        project.path.clone()
    };
    let label = match &project.name {
        Some(name) if !place.ends_with(name.as_str()) => format!("{place} ({name})"),
        _ => place,
    };
    let tasks = match project.completion {
        Some(completion) => format!(
            "{}/{} {:>3.0}%",
            project.tasks_done,
            project.tasks,
            completion * 100.0
        ),
        None => "-".into(),
    };
    let label = format!("{}{label}", "  ".repeat(depth));
    // Every ecosystem of the directory, the primary first: `npm+tasklist`.
    outln!("{label:<56} {:<14} {tasks:>11}", project.types.join("+"))?;
    for child in &project.children {
        print_project(child, depth + 1)?;
    }
    Ok(())
}

fn print_commit(commit: &Commit) -> std::io::Result<()> {
    let short = &commit.sha[..commit.sha.len().min(8)];
    outln!(
        "{short}  {}  {}  {}",
        commit.dated_at.format("%Y-%m-%d"),
        commit.repository,
        commit.title
    )?;
    for link in &commit.links {
        let why = match (&link.why.reference, &link.why.terms) {
            (Some(reference), _) => format!(", names {reference}"),
            (None, Some(terms)) if !terms.is_empty() => format!(", shares {}", terms.join(" ")),
            _ => String::new(),
        };
        outln!(
            "          -> {} {:?} [{} {} {:.2}{}{why}]",
            link.task.key,
            link.task.title,
            link.method,
            link.relation,
            link.confidence,
            if link.state == LinkState::Active {
                String::new()
            } else {
                format!(", {}", link.state)
            }
        )?;
    }
    Ok(())
}
