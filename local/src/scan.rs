//! `dashboard scan PATH|URL [--rev REV] [--json] [--recurse-submodules]`: the projects a repository
//! holds at a commit, read from its object database with the scanner's own detectors. A URL is
//! mirrored into the user's cache (`$XDG_CACHE_HOME/dashboard/mirrors`, else `~/.cache/…`) and fetched
//! again on the next scan; submodules come from a checkout's `.git/modules` when they are there, else
//! from mirrors of their URLs. A progress bar shows on stderr when it is a terminal.

use crate::output::{errln, outln};
use std::{
    io::IsTerminal as _,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anyhow::Context as _;
use dashboard_scanner::{
    checkout::Checkout,
    detect::{Project, Tree as _, detect_counting},
    git::GitTree,
    mirror::{self, Fetcher},
    remote::{FetchPolicy, RemotePolicy},
};

/// Options of `dashboard scan`.
#[derive(clap::Args)]
pub struct Args {
    /// A local git repository (bare or not), or a URL to clone (`https://`, `git://`, `ssh://`,
    /// `file://`).
    repository: String,
    /// The commit to read (a branch, tag or SHA); default HEAD.
    #[arg(long)]
    rev: Option<String>,
    /// Print JSON (the scanner's output contract) instead of a table.
    #[arg(long)]
    json: bool,
    /// Scan submodules too: each one's projects take the place of its `git-submodule` entry.
    #[arg(long)]
    recurse_submodules: bool,
}

/// Scans and prints.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let progress = Progress::new();
    // Local mode: the operator scans what they choose, on their own machine.
    let policy = FetchPolicy::from_lookup(
        RemotePolicy::Local,
        &dashboard_shared::config::Env::process(),
    )?;
    let never = std::sync::atomic::AtomicBool::new(false);
    let fetcher = Fetcher {
        policy: &policy,
        credentials: None,
        host_keys: None,
        interrupt: &never,
    };
    let local = Path::new(&args.repository);
    let looks_like_url = args.repository.contains("://")
        || args
            .repository
            .split_once(':')
            .is_some_and(|(host, _)| host.contains('@'));
    anyhow::ensure!(
        local.exists() || looks_like_url,
        "{}: no such directory, and not a URL",
        args.repository
    );
    let (path, url) = if local.exists() {
        // Without a remote, relative submodule URLs resolve against the repository's own
        // directory, as git does: an absolute one.
        let directory = local
            .canonicalize()
            .with_context(|| format!("cannot read {}", local.display()))?;
        let url = origin_url(local).unwrap_or_else(|| directory.display().to_string());
        (local.to_owned(), url)
    } else {
        progress.say(&format!("fetching {}", args.repository));
        let mirror = cached_mirror(&args.repository)?;
        fetcher
            .sync(&mirror, &args.repository)
            .with_context(|| format!("cannot fetch {}", args.repository))?;
        (mirror, args.repository.clone())
    };
    let tree = GitTree::open(&path, args.rev.as_deref())?;
    let checkout = if args.recurse_submodules {
        let fetch = |sub_url: &str, name: &str, commit: &str| -> anyhow::Result<PathBuf> {
            // A checkout's own copy, unless the name (the repository's to choose) would lead
            // out of `.git/modules`.
            let inside = std::path::Path::new(name)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            let modules = path.join(".git").join("modules").join(name);
            if inside && mirror::has_commit(&modules, commit) {
                return Ok(modules);
            }
            progress.say(&format!("fetching submodule {name} from {sub_url}"));
            let mirror = cached_mirror(sub_url)?;
            fetcher.ensure_commit(&mirror, sub_url, commit)?;
            Ok(mirror)
        };
        Checkout::recursive(tree, &url, policy.remotes, &fetch)
    } else {
        Checkout::flat(tree)
    };
    let mut projects = progress.counting(&checkout);
    checkout.report(&mut projects);
    if args.json {
        let output = serde_json::json!({
            "commit": checkout.commit(),
            "projects": projects,
            "skipped": checkout.skipped(),
        });
        outln!("{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(());
    }
    print_table(&projects)?;
    for skipped in checkout.skipped() {
        errln!("skipped: {skipped}")?;
    }
    errln!("{} projects at {}", projects.len(), checkout.commit())?;
    Ok(())
}

fn print_table(projects: &[Project]) -> std::io::Result<()> {
    let dot = |p: &str| {
        if p.is_empty() {
            ".".to_owned()
        } else {
            p.to_owned()
        }
    };
    outln!(
        "{:<40} {:<14} {:<30} {:<12} {:>5} {:>5}  MEMBER OF",
        "PATH",
        "TYPE",
        "NAME",
        "VERSION",
        "TODO",
        "FIXME"
    )?;
    for p in projects {
        outln!(
            "{:<40} {:<14} {:<30} {:<12} {:>5} {:>5}  {}",
            dot(&p.path),
            p.types.join("+"),
            p.name.as_deref().unwrap_or("-"),
            p.version.as_deref().unwrap_or("-"),
            p.todo_count,
            p.fixme_count,
            p.member_of.as_deref().map_or("-".to_owned(), dot),
        )?;
        for problem in &p.problems {
            errln!("warning: {}: {problem}", dot(&p.path))?;
        }
    }
    Ok(())
}

/// The `origin` remote's URL of a local repository (to resolve relative submodule URLs).
fn origin_url(path: &Path) -> Option<String> {
    let repo = mirror::open(path).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    remote
        .url(gix::remote::Direction::Fetch)
        .map(|u| u.to_bstring().to_string())
}

/// Where a URL is mirrored for the command line.
fn cached_mirror(url: &str) -> anyhow::Result<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: nowhere to keep a mirror")?;
    Ok(mirror::url_path(
        &cache.join("dashboard").join("mirrors"),
        url,
    ))
}

/// A progress bar on stderr when it is a terminal; silence otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    /// Detects, showing how many files were read of how many.
    fn counting(&self, tree: &Checkout) -> Vec<Project> {
        let Some(bar) = &self.bar else {
            return detect_counting(tree, &AtomicUsize::new(0));
        };
        bar.set_length(tree.paths().len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
                .expect("a valid template"),
        );
        bar.set_message("scanning");
        let read = AtomicUsize::new(0);
        let this = std::thread::current();
        let projects = std::thread::scope(|scope| {
            let scan = scope.spawn(|| {
                let projects = detect_counting(tree, &read);
                // The bar is left as soon as the scan ends, not up to a tick later.
                this.unpark();
                projects
            });
            while !scan.is_finished() {
                bar.set_position(read.load(Ordering::Relaxed) as u64);
                std::thread::park_timeout(Duration::from_millis(100));
            }
            scan.join().expect("the scan never panics")
        });
        bar.finish_and_clear();
        projects
    }
}
