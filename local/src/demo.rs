//! The demo behind `dashboard up --demo`: repositories generated on disk (in the data directory's
//! `demo/`, once) and connected like any `git` remote, so that a newcomer sees the whole pipeline —
//! poll, scan, ingestion, linking — within a minute:
//! - coditect-ai: a master repository laid out like the original plan, 6 category directories and
//!   38 submodules (relative URLs), each with a `tasklist.md`: 45 projects;
//! - find-me-a-mechanic: an npm application with a task list and a history of commits that
//!   reference, close and merely resemble its tasks, one on a branch named after a task;
//! - hookup-app: nothing.
//!
//! The repositories are made with the git CLI.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context as _;
use dashboard_api::{accounts, api::repositories::model::NewRepository, auth::password::Passwords};
use dashboard_shared::domain::{Email, Role};
use secrecy::{ExposeSecret as _, SecretString};

use crate::{
    repo,
    system::{System, data_dir},
};

/// The categories of the coditect-ai master repository and the submodules in each (38 in all).
const CATEGORIES: [(&str, &[&str]); 6] = [
    (
        "core",
        &[
            "api",
            "auth",
            "billing",
            "database",
            "events",
            "scheduler",
            "search",
        ],
    ),
    (
        "platform",
        &[
            "cli",
            "sdk-python",
            "sdk-typescript",
            "gateway",
            "web-console",
            "notifications",
        ],
    ),
    (
        "agents",
        &[
            "orchestrator",
            "planner",
            "coder",
            "reviewer",
            "tester",
            "memory",
            "tools",
        ],
    ),
    (
        "integrations",
        &[
            "github",
            "gitlab",
            "jira",
            "slack",
            "linear",
            "google-workspace",
        ],
    ),
    (
        "docs",
        &[
            "handbook",
            "api-reference",
            "tutorials",
            "blog",
            "design-system",
            "runbooks",
        ],
    ),
    (
        "operations",
        &[
            "terraform",
            "monitoring",
            "ci-templates",
            "security",
            "backups",
            "cost-reports",
        ],
    ),
];

/// Makes the demo repositories if they are not there yet and connects them (enqueueing their first
/// polls). Returns how many repositories were connected anew.
pub async fn install(system: &System) -> anyhow::Result<usize> {
    let root = data_dir().join("demo");
    let made = root.join(".complete");
    if !made.exists() {
        let _ = std::fs::remove_dir_all(&root);
        make(&root).context("making the demo repositories failed")?;
        std::fs::write(&made, "")?;
    }
    let mut connected = 0;
    for (slug, path) in [
        (
            "coditect-ai",
            root.join("coditect-ai").join("coditect-master"),
        ),
        (
            "find-me-a-mechanic",
            root.join("find-me-a-mechanic").join("find-me-a-mechanic"),
        ),
    ] {
        let tenant = system.tenant(slug).await?;
        let new = NewRepository {
            url: path.to_string_lossy().into_owned(),
            ..NewRepository::default()
        };
        let (_, added) = repo::connect(system, tenant, new).await?;
        connected += usize::from(added.new);
    }
    Ok(connected)
}

/// The demo owner's address.
pub const DEMO_OWNER: &str = "demo@dashboard.local";

/// The demo owner: an account that owns every demo organization, with a random password kept in
/// `demo-owner-password` of the data directory (made once). Returns the address and password, for
/// `up`'s log.
pub async fn owner(system: &System) -> anyhow::Result<(String, SecretString)> {
    let file = data_dir().join("demo-owner-password");
    let email = Email::parse(DEMO_OWNER).map_err(anyhow::Error::msg)?;
    let account = match accounts::find_account_by_email(&system.db, &email).await? {
        Some(account) => account,
        None => {
            let password = SecretString::from(format!(
                "demo-{}",
                hex::encode(dashboard_shared::crypto::random_bytes::<12>())
            ));
            let new = accounts::NewAccount {
                email: &email,
                display_name: Some("Demo Owner"),
                password_hash: Some(Passwords::new(1).hash(&password).await?),
                email_verified: true,
            };
            let account = accounts::create_account(&system.db, new).await?;
            crate::postgres::write_private(&file, password.expose_secret())?;
            account
        }
    };
    for (slug, _, _) in crate::seed::DEMO_TENANTS {
        let tenant = system.tenant(slug).await?;
        accounts::add_member(&system.db, tenant, account, Role::Owner, None).await?;
    }
    let password = std::fs::read_to_string(&file)
        .with_context(|| format!("the demo owner's password is kept in {}", file.display()))?;
    Ok((
        DEMO_OWNER.into(),
        SecretString::from(password.trim().to_owned()),
    ))
}

fn make(root: &Path) -> anyhow::Result<()> {
    let coditect = root.join("coditect-ai");
    let master = Repo::init(&coditect.join("coditect-master"))?;
    master.write(
        "tasklist.md",
        &tasklist(
            "CODITECT Master",
            "M",
            &[
                ("x", "Define the six categories"),
                (" ", "Document the category layout"),
                (" ", "Connect every submodule"),
            ],
        ),
    )?;
    master.commit("Plan the CODITECT platform", 9)?;
    for (category, _) in CATEGORIES {
        master.write(
            &format!("{category}/tasklist.md"),
            &tasklist(
                &format!("{} category", capitalize(category)),
                &short(category),
                &[(" ", &format!("Review the {category} roadmap"))],
            ),
        )?;
    }
    // Everything but the gitlinks first: `git add` of a directory would drop gitlinks whose
    // directories are not checked out.
    master.git(&["add", "-A"])?;
    let mut gitmodules = String::new();
    for (category, names) in CATEGORIES {
        for name in names {
            let repository = format!("coditect-{category}-{name}");
            let sub = Repo::init(&coditect.join(&repository))?;
            let title = format!("{} {}", capitalize(category), words(name));
            sub.write(
                "tasklist.md",
                &tasklist(
                    &title,
                    &short(name),
                    &[
                        ("x", &format!("Set up the {name} repository")),
                        (" ", &format!("Write the {name} design notes")),
                        (" ", &format!("Ship the first {name} release")),
                    ],
                ),
            )?;
            sub.commit(&format!("Start {title}"), 8)?;
            let pinned = sub.git(&["rev-parse", "HEAD"])?;
            let path = format!("{category}/{name}");
            writeln!(
                gitmodules,
                "[submodule \"{path}\"]\n\tpath = {path}\n\turl = ../{repository}"
            )?;
            master.git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{pinned},{path}"),
            ])?;
        }
    }
    master.write(".gitmodules", &gitmodules)?;
    master.git(&["add", ".gitmodules"])?;
    master.git_at(&["commit", "-q", "-m", "Connect the 38 submodules"], 5)?;
    master.write(
        "docs/LAYOUT.md",
        "# Layout\n\nSix category directories, one submodule per component.\n",
    )?;
    master.git(&["add", "docs/LAYOUT.md"])?;
    master.git_at(
        &[
            "commit",
            "-q",
            "-m",
            "Fixes TASK-M-2: document the category layout",
        ],
        2,
    )?;

    let app = Repo::init(&root.join("find-me-a-mechanic").join("find-me-a-mechanic"))?;
    app.write(
        "package.json",
        "{\n  \"name\": \"find-me-a-mechanic\",\n  \"version\": \"0.4.0\",\n  \"description\": \"Book a trusted mechanic near you\"\n}\n",
    )?;
    app.write(
        "tasklist.md",
        &tasklist(
            "Find Me A Mechanic",
            "FMM",
            &[
                (" ", "Search mechanics by postcode"),
                (" ", "Validate phone numbers on the booking form"),
                (" ", "Show mechanic ratings and reviews on profiles"),
                (" ", "Email booking confirmations to customers"),
                (" ", "Take deposits with Stripe checkout"),
                (" ", "Dark mode for the mechanic dashboard"),
            ],
        ),
    )?;
    app.write("src/server.js", "import express from 'express';\n")?;
    app.commit("Start the app: Express server and the task list", 7)?;
    let history: [(&str, &str, &str, u32); 5] = [
        (
            "src/search/postcode.js",
            "export const near = (postcode) => [];\n",
            "Postcode lookup for the search endpoint, part of TASK-FMM-1",
            6,
        ),
        (
            "src/booking/validatePhone.js",
            "export const valid = (phone) => /^\\+44/.test(phone);\n",
            "Fixes TASK-FMM-2: reject phone numbers that are not UK numbers",
            5,
        ),
        (
            "src/profiles/reviews.js",
            "export const reviews = [];\n",
            "Show ratings and reviews on mechanic profiles",
            4,
        ),
        (
            "src/email/bookingConfirmation.js",
            "export const send = () => {};\n",
            "Email customers a confirmation of their booking",
            3,
        ),
        (
            "src/db.js",
            "export const pool = { max: 10 };\n",
            "Tidy up the connection pool settings",
            2,
        ),
    ];
    for (path, contents, message, days_ago) in history {
        app.write(path, contents)?;
        app.commit(message, days_ago)?;
    }
    app.git(&["checkout", "-q", "-b", "task-fmm-5-deposits"])?;
    app.write(
        "src/payments/checkout.js",
        "export const checkout = () => ({ mode: 'payment' });\n",
    )?;
    app.commit("Create the checkout session for deposits", 1)?;
    app.git(&["checkout", "-q", "main"])?;
    Ok(())
}

/// A task list: front matter, then `(mark, title)` tasks numbered `TASK-<short>-<n>`.
fn tasklist(name: &str, short: &str, tasks: &[(&str, &str)]) -> String {
    let mut text = format!("---\nname: {name}\nshort_name: {short}\n---\n# {name}\n\n");
    for (i, (mark, title)) in tasks.iter().enumerate() {
        let _ = writeln!(text, "- [{mark}] TASK-{short}-{} {title}", i + 1);
    }
    text
}

/// `sdk-python` → `SDKPYTHON`: a task-id prefix.
fn short(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `sdk-python` → `Sdk Python`.
fn words(name: &str) -> String {
    name.split('-')
        .map(capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A working repository made with the git CLI.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn init(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let repo = Self {
            dir: dir.to_owned(),
        };
        repo.git(&["init", "-q", "-b", "main"])?;
        Ok(repo)
    }

    fn write(&self, path: &str, contents: &str) -> anyhow::Result<()> {
        let file = self.dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&self.dir))?;
        std::fs::write(file, contents)?;
        Ok(())
    }

    /// Commits everything, dated `days_ago` days back.
    fn commit(&self, message: &str, days_ago: u32) -> anyhow::Result<()> {
        self.git(&["add", "-A"])?;
        self.git_at(&["commit", "-q", "-m", message], days_ago)
            .map(drop)
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.git_at(args, 0)
    }

    fn git_at(&self, args: &[&str], days_ago: u32) -> anyhow::Result<String> {
        let at = chrono::Utc::now() - chrono::Duration::days(i64::from(days_ago));
        let date = at.to_rfc3339();
        let output = Command::new("git")
            .args(["-c", "user.name=Demo Developer", "-c", "user.email=demo@example.com"])
            .args(["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"])
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .map_err(|error| {
                anyhow::anyhow!("the demo repositories are made with git, which could not run ({error}): install the `git` package")
            })?;
        anyhow::ensure!(
            output.status.success(),
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}
