//! What a person does in the dashboard, step by step, each step a function named for what it
//! shows. The steps share one browser session (signed in as the demo owner, at the end as a viewer)
//! and one `dashboard up --demo`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use fantoccini::key::Key;
use serde_json::json;

use crate::{chromium::Browser, common::git, server::Dashboard};

const OWNER: &str = "demo@dashboard.local";
const MECHANIC: &str = "find-me-a-mechanic";
const CODITECT: &str = "coditect-ai";
/// The organization of [`OwnRepository`], the demo's empty one.
const HOOKUP: &str = "hookup-app";
const XSS: &str = "<script>alert(1)</script>";

/// A local repository of one's own connected to hookup-app, whose task list names a task with a
/// script in its title, and where the live steps commit.
pub struct OwnRepository {
    _temp: tempfile::TempDir,
    /// `hookup-web` in `_temp` (the repository is named after its directory).
    dir: PathBuf,
}

impl OwnRepository {
    /// Makes the repository and connects it (`dashboard repo add`, fetched, scanned and linked).
    pub fn connect(dashboard: &Dashboard) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("hookup-web");
        std::fs::create_dir(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        std::fs::write(
            dir.join("tasklist.md"),
            // Markdown's escapes keep the tags as text (raw inline HTML is not part of a title).
            "- [ ] TASK-WEB-1 \\<script>alert(1)\\</script>\n\
             - [ ] TASK-WEB-2 Live updates in the browser\n\
             - [ ] TASK-WEB-3 Export the invoices as spreadsheet files\n\
             - [ ] TASK-WEB-4 Export the invoices as spreadsheet reports\n",
        )
        .unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "Start"]);
        // Resembles TASK-WEB-3 and TASK-WEB-4 alike: no link, two suggestions for a person.
        std::fs::write(dir.join("export.js"), "export {};\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(
            &dir,
            &["commit", "-q", "-m", "Export invoices as a spreadsheet"],
        );
        // Connected, fetched and queued for a scan (which `up` or the command runs).
        dashboard.run(&["repo", "add", "--tenant", HOOKUP, path(&dir)]);
        Self { _temp: temp, dir }
    }

    /// Commits a new file with `title` as the message; the commit's SHA.
    fn commit(&self, title: &str) -> String {
        let file = format!("{}.txt", title.replace(' ', "-"));
        std::fs::write(self.dir.join(file), title).unwrap();
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "-m", title]);
        git(&self.dir, &["rev-parse", "HEAD"])
    }
}

fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// Every step, in order.
pub async fn run(dashboard: &Dashboard, browser: &mut Browser, repository: &OwnRepository) {
    let password = dashboard.owner_password();
    let started = Instant::now();
    let step = |name: &str| println!("{:>6.1} s  {name}", started.elapsed().as_secs_f64());
    signs_in_with_the_password_form(dashboard, browser, OWNER, &password, "/orgs").await;
    browser.check("orgs").await;
    step("signs in with the password form");
    switches_organization_through_the_switcher(browser).await;
    step("switches organization through the switcher");
    opens_the_project_tree(dashboard, browser).await;
    step("opens the project tree");
    filters_tasks_by_status(dashboard, browser).await;
    step("filters tasks by status");
    confirms_a_suggestion_on_a_commit_page(dashboard, browser).await;
    step("confirms a suggestion on a commit page");
    visits_unlinked_work_and_every_settings_page(dashboard, browser).await;
    step("visits unlinked work and every settings page");
    shows_a_script_in_a_task_title_as_text(dashboard, browser).await;
    step("shows a script in a task title as text");
    shows_a_pushed_commit_and_a_new_link_live(dashboard, browser, repository).await;
    step("shows a pushed commit and a new link live");
    a_viewer_meets_no_control_they_may_not_use(dashboard, browser).await;
    step("a viewer meets no control they may not use");
    pages_left_behind_release_their_live_connection(dashboard).await;
    step("pages left behind release their live connection");
}

/// Signs in with the form on `/signin` and lands on `landing`.
async fn signs_in_with_the_password_form(
    dashboard: &Dashboard,
    browser: &mut Browser,
    email: &str,
    password: &str,
    landing: &str,
) {
    let signin = format!("{}/signin", dashboard.origin);
    if email == OWNER {
        browser.visit("signin", &signin).await;
    } else {
        browser.client.goto(&signin).await.unwrap();
    }
    browser.find("#email").await.send_keys(email).await.unwrap();
    browser
        .find("#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    browser
        .find("form[action='/signin'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!("location.pathname === '{landing}'"))
        .await;
}

async fn switches_organization_through_the_switcher(browser: &mut Browser) {
    let listed: Vec<String> = {
        let mut hrefs = Vec::new();
        for a in browser.find_all("main a[href^='/orgs/']").await {
            hrefs.push(a.attr("href").await.unwrap().unwrap_or_default());
        }
        hrefs
    };
    for org in [CODITECT, MECHANIC, HOOKUP] {
        assert!(listed.contains(&format!("/orgs/{org}")), "{listed:?}");
    }
    browser
        .find(&format!("main a[href='/orgs/{CODITECT}']"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!("location.pathname === '/orgs/{CODITECT}'"))
        .await;
    browser.check("overview-coditect-ai").await;

    browser
        .find("details.switcher summary")
        .await
        .click()
        .await
        .unwrap();
    browser
        .find(&format!("details.switcher a[href='/orgs/{MECHANIC}']"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!("location.pathname === '/orgs/{MECHANIC}'"))
        .await;
    let heading = browser.find("main h1").await.text().await.unwrap();
    assert_eq!(heading, "Find Me A Mechanic");
    assert!(
        !sync_buttons(browser).await.is_empty(),
        "an owner may sync repositories"
    );
    browser.check("overview-find-me-a-mechanic").await;
}

/// The texts of the "Sync now" buttons on the page.
async fn sync_buttons(browser: &Browser) -> Vec<String> {
    let mut found = Vec::new();
    for button in browser.find_all("button").await {
        let text = button.text().await.unwrap();
        if text.contains("Sync now") {
            found.push(text);
        }
    }
    found
}

async fn opens_the_project_tree(dashboard: &Dashboard, browser: &mut Browser) {
    let tree = format!("{}/orgs/{CODITECT}/projects", dashboard.origin);
    browser.client.goto(&tree).await.unwrap();
    let nodes = browser.find_all("main details").await;
    assert!(nodes.len() >= 7, "the master and its 6 categories at least");
    // A node's sub-projects, folded and unfolded from the keyboard (the summary is the toggle
    // alone; the project's link sits beside it, never inside).
    browser
        .js(
            "[...document.querySelectorAll('main details')].find(d => d.querySelector('details')) \
             .setAttribute('data-probe', '')",
            vec![],
        )
        .await;
    let summary = browser.find("details[data-probe] > summary").await;
    let open = "document.querySelector('details[data-probe]').open";
    for expected in [false, true] {
        summary.send_keys(&Key::Enter.to_string()).await.unwrap();
        browser.wait_until(&format!("{open} === {expected}")).await;
        let nested = browser
            .find("details[data-probe] details > summary")
            .await
            .is_displayed()
            .await
            .unwrap();
        assert_eq!(nested, expected, "its sub-projects shown when open");
    }
    browser.check("projects").await;
    let project = browser
        .find(&format!("main a[href^='/orgs/{CODITECT}/projects/']"))
        .await;
    project.click().await.unwrap();
    browser
        .wait_until(&format!(
            "/^\\/orgs\\/{CODITECT}\\/projects\\/[^/]+$/.test(location.pathname)"
        ))
        .await;
    browser.check("project").await;
}

async fn filters_tasks_by_status(dashboard: &Dashboard, browser: &mut Browser) {
    browser
        .visit(
            "tasks",
            &format!("{}/orgs/{MECHANIC}/tasks", dashboard.origin),
        )
        .await;
    browser
        .find("#status")
        .await
        .select_by_label("done")
        .await
        .unwrap();
    browser
        .find("form.filters button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until("new URLSearchParams(location.search).get('status') === 'done'")
        .await;
    let statuses = browser
        .js(
            "return [...document.querySelectorAll('#tasks tbody tr')].map(r => \
             (r.querySelector('.badge') || r).textContent.trim())",
            vec![],
        )
        .await;
    let token = dashboard.owner_token(MECHANIC);
    let done = dashboard
        .get(
            &token,
            &format!("/api/v2/orgs/{MECHANIC}/tasks?status=done"),
        )
        .await;
    let statuses = statuses.as_array().unwrap();
    assert!(!statuses.is_empty(), "TASK-FMM-2 is done");
    assert!(statuses.iter().all(|s| s == "done"), "{statuses:?}");
    assert_eq!(statuses.len(), done.as_array().unwrap().len());
    browser.check("tasks-done").await;
    browser
        .find(&format!("#tasks a[href^='/orgs/{MECHANIC}/tasks/']"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!(
            "location.pathname.startsWith('/orgs/{MECHANIC}/tasks/')"
        ))
        .await;
    browser.check("task").await;
}

async fn confirms_a_suggestion_on_a_commit_page(dashboard: &Dashboard, browser: &mut Browser) {
    browser
        .visit(
            "commits",
            &format!("{}/orgs/{MECHANIC}/commits", dashboard.origin),
        )
        .await;
    let token = dashboard.owner_token(HOOKUP);
    let started = Instant::now();
    let (sha, key) = loop {
        let commits = dashboard
            .get(&token, &format!("/api/v2/orgs/{HOOKUP}/commits?limit=100"))
            .await;
        let suggested = commits.as_array().unwrap().iter().find_map(|c| {
            let link = c["links"]
                .as_array()?
                .iter()
                .find(|l| l["state"] == "suggested")?;
            Some((
                c["sha"].as_str()?.to_owned(),
                link["task"]["key"].as_str()?.to_owned(),
            ))
        });
        if let Some(found) = suggested {
            break found;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "no suggested link in {HOOKUP}: {commits:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    browser
        .visit(
            "commit",
            &format!("{}/orgs/{HOOKUP}/commits/{sha}", dashboard.origin),
        )
        .await;
    let state = format!(
        "[...document.querySelectorAll('#commit-links tbody tr')].find(r => \
         r.querySelector('code') && r.querySelector('code').textContent === '{key}')\
         ?.querySelector('[class*=\"state-\"]')?.textContent"
    );
    assert_eq!(
        browser.js(&format!("return {state}"), vec![]).await,
        "suggested"
    );
    browser
        .find(&format!(
            "#commit-links form:has(input[name=task][value='{key}']) button[type=submit]:not(.secondary)"
        ))
        .await
        .click()
        .await
        .unwrap();
    browser.wait_until(&format!("{state} === 'active'")).await;
    let commit = dashboard
        .get(&token, &format!("/api/v2/orgs/{HOOKUP}/commits/{sha}"))
        .await;
    let link = commit["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["task"]["key"] == key.as_str())
        .unwrap();
    assert_eq!(link["state"], "active", "{link:#}");
    browser.check("commit-confirmed").await;
}

async fn visits_unlinked_work_and_every_settings_page(
    dashboard: &Dashboard,
    browser: &mut Browser,
) {
    let org = format!("{}/orgs/{MECHANIC}", dashboard.origin);
    for (name, path) in [
        ("unlinked", "/unlinked"),
        ("settings", "/settings"),
        ("settings-repositories", "/settings/repositories"),
        ("settings-invitations", "/settings/invitations"),
        ("settings-security", "/settings/security"),
        ("settings-audit", "/settings/audit"),
    ] {
        browser.visit(name, &format!("{org}{path}")).await;
        let heading = browser.find("main h1").await.text().await.unwrap();
        assert!(
            !heading.contains("Forbidden") && !heading.contains("Not found"),
            "{name}: {heading}"
        );
        if name == "settings-repositories" {
            browser.find("#url").await; // the connect form, for an owner
        }
    }
}

async fn shows_a_script_in_a_task_title_as_text(dashboard: &Dashboard, browser: &mut Browser) {
    let token = dashboard.owner_token(HOOKUP);
    let started = Instant::now();
    let task = loop {
        let tasks = dashboard
            .get(&token, &format!("/api/v2/orgs/{HOOKUP}/tasks"))
            .await;
        if let Some(task) = tasks
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "TASK-WEB-1")
        {
            break task.clone();
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "TASK-WEB-1 never stored: {tasks:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let title = task["title"].as_str().unwrap();
    assert!(title.contains(XSS), "the title as stored: {title:?}");
    browser
        .visit(
            "tasks-script-title",
            &format!("{}/orgs/{HOOKUP}/tasks", dashboard.origin),
        )
        .await;
    let shown = browser.find("#tasks tbody").await.text().await.unwrap();
    assert!(shown.contains(XSS), "shown as text: {shown}");
    let scripts = browser
        .js(
            "return document.querySelectorAll('main script').length",
            vec![],
        )
        .await;
    assert_eq!(scripts, 0, "no script element made from the title");
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "no alert opened"
    );
    browser
        .visit(
            "task-script-title",
            &format!(
                "{}/orgs/{HOOKUP}/tasks/{}",
                dashboard.origin,
                task["id"].as_str().unwrap()
            ),
        )
        .await;
    let heading = browser.find("main h1").await.text().await.unwrap();
    assert!(heading.contains(XSS), "{heading}");
    assert!(browser.client.get_alert_text().await.is_err());
}

/// Milliseconds since the epoch, the clock `Date.now()` reads in the browser on this machine.
fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Waits in the page until the text of `#{id}` contains `text`; when it did (`Date.now()`), and
/// whether the page was still the same document (no reload).
const WAIT_FOR_TEXT: &str = "
  const [id, text, done] = arguments;
  const seen = () => (document.getElementById(id)?.textContent || '').includes(text);
  if (seen()) { done({at: Date.now(), same: window.__kept === true}); return; }
  const observer = new MutationObserver(() => {
    if (seen()) { observer.disconnect(); done({at: Date.now(), same: window.__kept === true}); }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});";

async fn shows_a_pushed_commit_and_a_new_link_live(
    dashboard: &Dashboard,
    browser: &mut Browser,
    repository: &OwnRepository,
) {
    let token = dashboard.owner_token(HOOKUP);
    let repositories = dashboard
        .get(&token, &format!("/api/v2/orgs/{HOOKUP}/repositories"))
        .await;
    let id = repositories[0]["id"].as_str().unwrap().to_owned();
    browser
        .visit(
            "overview-hookup-app",
            &format!("{}/orgs/{HOOKUP}", dashboard.origin),
        )
        .await;
    browser.js("window.__kept = true", vec![]).await;

    // A push: a new commit, then a poll asked for through the API (as a webhook's delivery would).
    let title = format!("Live commit {}", now_ms());
    let sha = repository.commit(&title);
    let (status, body) = dashboard
        .post(
            &token,
            &format!("/api/v2/orgs/{HOOKUP}/repositories/{id}/sync"),
            &json!({}),
        )
        .await;
    let accepted = now_ms();
    assert_eq!(status, 202, "{body}");
    let shown = browser
        .js_async(WAIT_FOR_TEXT, vec![json!("recent"), json!(title)])
        .await;
    assert_eq!(shown["same"], true, "shown without a reload");
    println!(
        "live: the pushed commit showed on the overview {} ms after the sync's 202",
        shown["at"].as_u64().unwrap().saturating_sub(accepted)
    );
    browser.check("overview-hookup-app-live").await;

    // A link made by another client shows on the commit's page.
    browser
        .client
        .goto(&format!("{}/orgs/{HOOKUP}/commits/{sha}", dashboard.origin))
        .await
        .unwrap();
    browser.js("window.__kept = true", vec![]).await;
    let (status, body) = dashboard
        .post(
            &token,
            &format!("/api/v2/orgs/{HOOKUP}/links"),
            &json!({"commit": sha, "task": "TASK-WEB-2"}),
        )
        .await;
    let linked = now_ms();
    assert_eq!(status, 201, "{body}");
    let shown = browser
        .js_async(
            WAIT_FOR_TEXT,
            vec![json!("commit-links"), json!("TASK-WEB-2")],
        )
        .await;
    assert_eq!(shown["same"], true, "shown without a reload");
    println!(
        "live: the link showed on the commit's page {} ms after the API's 201",
        shown["at"].as_u64().unwrap().saturating_sub(linked)
    );
    browser.check("commit-live-link").await;
}

async fn a_viewer_meets_no_control_they_may_not_use(dashboard: &Dashboard, browser: &mut Browser) {
    let (email, password) = ("viewer@example.com", "correct horse battery staple 7");
    dashboard.add_user(email, password, MECHANIC, "viewer");
    browser
        .find("form.signout button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until("!document.querySelector('form.signout')")
        .await;
    let landing = format!("/orgs/{MECHANIC}");
    signs_in_with_the_password_form(dashboard, browser, email, password, &landing).await;
    assert_eq!(sync_buttons(browser).await, Vec::<String>::new());
    browser.check("overview-viewer").await;
    browser
        .visit(
            "settings-viewer",
            &format!("{}{landing}/settings", dashboard.origin),
        )
        .await;
    let connect = browser
        .js(
            "return [...document.querySelectorAll('main a, main button')] \
             .map(e => e.textContent.trim()).filter(t => /connect|sync now/i.test(t))",
            vec![],
        )
        .await;
    assert_eq!(
        connect,
        json!([]),
        "a viewer's settings offer nothing to connect"
    );

    let repositories = format!("/orgs/{MECHANIC}/settings/repositories");
    let status = browser
        .js_async(
            "const [path, done] = arguments;
             fetch(path, {credentials: 'same-origin'}).then(r => done(r.status), e => done(String(e)));",
            vec![json!(repositories)],
        )
        .await;
    assert_eq!(status, 403, "a viewer's GET of {repositories}");
    // The connect form posted anyway, with this browser's valid CSRF token (the sign-out form's).
    let status = browser
        .js_async(
            "const [path, done] = arguments;
             const csrf = document.querySelector('form.signout input[name=csrf]').value;
             const body = new URLSearchParams({csrf, url: 'https://github.com/owner/name.git'});
             fetch(path, {method: 'POST', body, credentials: 'same-origin'})
               .then(r => done(r.status), e => done(String(e)));",
            vec![json!(repositories)],
        )
        .await;
    assert_eq!(status, 403, "a viewer's POST of the connect form");
    browser
        .visit(
            "settings-repositories-viewer",
            &format!("{}{repositories}", dashboard.origin),
        )
        .await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#url"))
            .await
            .is_err(),
        "no connect form for a viewer"
    );
    browser
        .client
        .goto(&format!("{}{landing}", dashboard.origin))
        .await
        .unwrap();
    // The same token signs out: it was valid, so the 403 above was the role's.
    browser
        .find("form.signout button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until("!document.querySelector('form.signout')")
        .await;
}

/// Each page holds an `EventSource` to its organization's events. Chromium keeps pages one leaves
/// in its back/forward cache, and allows 6 connections per host over HTTP/1.1: unless a page lets
/// its connection go when it is hidden, the seventh page waits for one to be freed.
async fn pages_left_behind_release_their_live_connection(dashboard: &Dashboard) {
    let mut browser = Browser::start(true).await;
    let password = dashboard.owner_password();
    signs_in_with_the_password_form(dashboard, &mut browser, OWNER, &password, "/orgs").await;
    let org = format!("{}/orgs/{MECHANIC}", dashboard.origin);
    let pages = [
        "",
        "/projects",
        "/tasks",
        "/commits",
        "/unlinked",
        "/settings",
        "",
        "/tasks",
        "/commits",
        "/projects",
    ];
    let mut stuck = None;
    for (n, page) in pages.iter().enumerate() {
        let started = Instant::now();
        if let Err(error) = browser.client.goto(&format!("{org}{page}")).await {
            stuck = Some(format!(
                "page {} of {} ({org}{page}) did not load within {:?} ({error}): the pages \
                 left behind keep their live connection (EventSource) open in the back/forward \
                 cache, and Chromium allows 6 connections per host; app.js should close it on \
                 `pagehide` and open it again on `pageshow`",
                n + 1,
                pages.len(),
                started.elapsed()
            ));
            break;
        }
    }
    browser.close().await;
    if let Some(stuck) = stuck {
        panic!("{stuck}");
    }
}
