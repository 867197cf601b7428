//! The scanner's benchmark (run by `scripts/bench-scan`, release build): full scan, manifest-only
//! scan and the incremental plan after a one-file push, each the median of 5 runs, printed beside the
//! git reference times the script measured in the same run.
//!
//! Usage: `scan_bench REPO OLD_COMMIT NEW_COMMIT GIT_GREP_MS LS_TREE_MS`

use std::{path::Path, time::Instant};

use dashboard_scanner::{
    detect::{ScanRules, detect, detect_manifests},
    git::GitTree,
    incremental::{Rescan, plan},
};

fn median_ms(mut run: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repo, old, new, grep_ms, ls_tree_ms] = args.as_slice() else {
        anyhow::bail!("usage: scan_bench REPO OLD_COMMIT NEW_COMMIT GIT_GREP_MS LS_TREE_MS");
    };
    let (grep_ms, ls_tree_ms): (f64, f64) = (grep_ms.parse()?, ls_tree_ms.parse()?);
    let path = Path::new(repo);

    let mut projects = 0;
    let mut todo = 0;
    let full = median_ms(|| {
        let tree = GitTree::open(path, Some(new)).expect("the repository opens");
        let found = detect(&tree);
        projects = found.len();
        todo = found.iter().map(|p| p.todo_count).sum::<u32>();
    });
    let manifests = median_ms(|| {
        let tree = GitTree::open(path, Some(new)).expect("the repository opens");
        detect_manifests(&tree, &ScanRules::default());
    });
    let git = gix::open(path)?;
    let new_id = gix::ObjectId::from_hex(new.as_bytes())?;
    let mut planned = None;
    let incremental = median_ms(|| {
        planned = Some(plan(&git, Some(old), new_id).expect("the plan"));
    });
    anyhow::ensure!(
        matches!(&planned, Some(Rescan::Counts(deltas)) if deltas.len() == 1),
        "a one-file push is a counts-only rescan: {planned:?}"
    );

    println!("projects found: {projects}, TODO lines: {todo}");
    println!(
        "full scan with TODO/FIXME counts: {full:.0} ms; git grep -I -w -E 'TODO|FIXME' HEAD: {grep_ms:.0} ms; ratio {:.2}",
        full / grep_ms
    );
    println!(
        "manifest-only scan: {manifests:.0} ms; git ls-tree -r HEAD: {ls_tree_ms:.0} ms; ratio {:.2}",
        manifests / ls_tree_ms
    );
    println!(
        "incremental rescan plan after a one-file push: {incremental:.2} ms (ratio to ls-tree {:.3})",
        incremental / ls_tree_ms
    );
    Ok(())
}
