//! The web dashboard in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which scripts/test installs) driven over WebDriver against `dashboard up
//! --demo`. A person signs in with the password form, switches organization, opens the project
//! tree, filters tasks, confirms a suggestion, sees a pushed commit and a link made elsewhere appear
//! without a reload, finds a `<script>` in a task's title shown as text, and as a viewer meets no
//! controls they may not use and a 403 on the page and form they may not reach. Every page visited
//! is checked with axe-core (no serious or critical violation) and photographed at 1280 and 390 px
//! wide into `target/screenshots/`.
//!
//! Skips, saying so, only where Chromium is missing and this is not root.

#[path = "../common/mod.rs"]
mod common;

mod chromium;
mod flows;
mod server;

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;

use chromium::Browser;
use server::Dashboard;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_uses_the_dashboard_in_a_real_browser() {
    if let Err(why) = chromium::available() {
        eprintln!("{why}");
        return;
    }
    let dashboard = Dashboard::start();
    let repository = flows::OwnRepository::connect(&dashboard);
    // Pages left behind are not kept for the back button, so that the steps' many pages never
    // wait for a connection a hidden page holds (the last step tests that with the cache on).
    let mut browser = Browser::start(false).await;

    let outcome = AssertUnwindSafe(flows::run(&dashboard, &mut browser, &repository))
        .catch_unwind()
        .await;

    let serious = report_accessibility(&browser);
    browser.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert!(
        serious.is_empty(),
        "serious or critical accessibility violations: {serious:#?}"
    );
}

/// Prints every page's axe-core violations; the serious and critical ones.
fn report_accessibility(browser: &Browser) -> Vec<String> {
    let mut serious = Vec::new();
    for (page, violations) in &browser.violations {
        if violations.is_empty() {
            println!("axe {page}: no violations");
        }
        for v in violations {
            let line = format!(
                "axe {page}: {} {} ({}) at {}",
                v["impact"].as_str().unwrap_or("?"),
                v["id"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                v["nodes"]
            );
            println!("{line}");
            if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
                serious.push(line);
            }
        }
    }
    serious
}
