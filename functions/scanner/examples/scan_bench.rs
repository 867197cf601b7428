//! The scanner's benchmark (run by `scripts/bench-scan`, release build). One scan per process, so
//! that the script can alternate it with the git command it is compared to, both timed the same way
//! (a whole process, start to exit):
//!
//! - `scan_bench full REPO`: what `dashboard scan REPO --json` does (the tree of HEAD, detection,
//!   TODO/FIXME counts, the JSON written to stdout);
//! - `scan_bench manifests REPO`: the same without the counts (only manifests are read);
//! - `scan_bench incremental REPO OLD NEW`: the median of 5 plans of the rescan after a push from
//!   `OLD` to `NEW`, in ms, checked to be a counts-only rescan of one file.
//!
//! `SCAN_BENCH_CACHES=PACK_MIB,OBJECT_MIB` reads with other caches than the scanner's own.

use std::{io::Write as _, path::Path, sync::atomic::AtomicUsize, time::Instant};

use anyhow::Context as _;
use dashboard_scanner::{
    checkout::Checkout,
    detect::{Project, ScanRules, Tree as _, detect_counting, detect_manifests},
    git::{Caches, GitTree},
    incremental::{Rescan, plan},
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["full", repo] => scan(Path::new(repo), true),
        ["manifests", repo] => scan(Path::new(repo), false),
        ["incremental", repo, old, new] => incremental(Path::new(repo), old, new),
        _ => anyhow::bail!(
            "usage: scan_bench full REPO | manifests REPO | incremental REPO OLD_COMMIT NEW_COMMIT"
        ),
    }
}

/// One scan of HEAD, printed as `dashboard scan --json` prints it; a summary on stderr.
fn scan(path: &Path, counts: bool) -> anyhow::Result<()> {
    let caches = match std::env::var("SCAN_BENCH_CACHES") {
        Ok(sizes) => {
            let (pack, object) = sizes
                .split_once(',')
                .context("SCAN_BENCH_CACHES=PACK_MIB,OBJECT_MIB")?;
            Caches {
                pack_bytes: pack.parse::<usize>()? << 20,
                object_bytes: object.parse::<usize>()? << 20,
            }
        }
        Err(_) => Caches::default(),
    };
    let checkout = Checkout::flat(GitTree::open_with(path, None, caches)?);
    let mut projects: Vec<Project> = if counts {
        detect_counting(&checkout, &AtomicUsize::new(0))
    } else {
        let (rules, _) = ScanRules::for_tree(&checkout);
        detect_manifests(&checkout, &rules)
    };
    checkout.report(&mut projects);
    let output = serde_json::json!({
        "commit": checkout.commit(),
        "projects": projects,
        "skipped": checkout.skipped(),
    });
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &output)?;
    writeln!(stdout)?;
    let todo: u32 = projects.iter().map(|p| p.todo_count).sum();
    let fixme: u32 = projects.iter().map(|p| p.fixme_count).sum();
    eprintln!(
        "{} files, {} projects, {todo} TODO lines, {fixme} FIXME lines, {} skipped",
        checkout.paths().len(),
        projects.len(),
        checkout.skipped().len()
    );
    Ok(())
}

/// The median of 5 plans after a one-file push, in ms.
fn incremental(path: &Path, old: &str, new: &str) -> anyhow::Result<()> {
    let git = gix::open(path)?;
    let new_id = gix::ObjectId::from_hex(new.as_bytes())?;
    let mut times = Vec::new();
    let mut planned = None;
    for _ in 0..5 {
        let start = Instant::now();
        planned = Some(plan(&git, Some(old), new_id)?);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    anyhow::ensure!(
        matches!(&planned, Some(Rescan::Counts(deltas)) if deltas.len() == 1),
        "a one-file push is a counts-only rescan: {planned:?}"
    );
    times.sort_by(f64::total_cmp);
    println!("{:.2}", times[2]);
    Ok(())
}
