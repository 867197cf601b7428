//! Headless Chromium driven through ChromeDriver (Debian's `chromium` and `chromium-driver`): start
//! it, look at pages, and on each page visited run axe-core and write screenshots at a desktop's
//! and a phone's width into `target/screenshots/`.

use std::{
    collections::BTreeMap,
    os::unix::fs::MetadataExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, wd::TimeoutConfiguration};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The widths of the screenshots: a laptop's and a phone's.
const WIDTHS: [u32; 2] = [1280, 390];
const HEIGHT: u32 = 900;
/// How long a page may take to load: far more than any page needs here, far less than a
/// connection held by a page left behind takes to free.
pub const PAGE_LOAD: Duration = Duration::from_secs(20);

/// Whether the browser tests can run; `Err` says why not when they should skip (never as root,
/// where scripts/test installs Chromium and a missing one is a failure).
pub fn available() -> Result<(), String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    assert!(
        !root,
        "{missing:?} missing: run scripts/test, which installs chromium and chromium-driver as root"
    );
    Err(format!(
        "{missing:?} missing and not root: skipping the browser tests \
         (apt-get install chromium chromium-driver, or run scripts/test as root)"
    ))
}

/// One Chromium session, and ChromeDriver behind it (stopped on drop).
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    axe: String,
    screenshots: PathBuf,
    /// axe-core's violations per page visited (page name → `[{id, impact, help, nodes}]`).
    pub violations: BTreeMap<String, Vec<Value>>,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium with a fresh profile; without
    /// `back_forward_cache`, pages left behind are discarded rather than kept (with their
    /// connections) for the back button.
    pub async fn start(back_forward_cache: bool) -> Self {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            &format!("--window-size={},{HEIGHT}", WIDTHS[0]),
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut args = args.map(str::to_owned).to_vec();
        if !back_forward_cache {
            args.push("--disable-features=BackForwardCache".to_owned());
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                // ChromeDriver may not listen yet.
                Err(_) if started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("no Chromium session through chromedriver: {error}"),
            }
        };
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(60)),
                Some(PAGE_LOAD),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let axe = std::fs::read_to_string(
            workspace.join("tests/browser/node_modules/axe-core/axe.min.js"),
        )
        .expect("axe-core in tests/browser/node_modules (npm ci --prefix tests/browser)");
        let screenshots = workspace.join("target/screenshots");
        std::fs::create_dir_all(&screenshots).unwrap();
        Self {
            client,
            driver,
            _profile: profile,
            axe,
            screenshots,
            violations: BTreeMap::new(),
        }
    }

    /// Opens `url` and checks the page (axe, screenshots) under `name`.
    pub async fn visit(&mut self, name: &str, url: &str) {
        self.client.goto(url).await.unwrap();
        self.check(name).await;
    }

    /// Runs axe-core on the page shown and writes its screenshots, `{name}-{width}.png`.
    pub async fn check(&mut self, name: &str) {
        self.client.execute(&self.axe, vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                     help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))
                   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));",
                vec![],
            )
            .await
            .unwrap();
        let Value::Array(found) = found else {
            panic!("axe.run answered {found}")
        };
        self.violations.insert(name.to_owned(), found);
        for width in WIDTHS {
            self.screenshot(name, width).await;
        }
        self.client
            .set_window_size(WIDTHS[0], HEIGHT)
            .await
            .unwrap();
    }

    /// A screenshot of the whole page at `width` CSS pixels: the window as tall as the page.
    async fn screenshot(&self, name: &str, width: u32) {
        self.client.set_window_size(width, HEIGHT).await.unwrap();
        let height = self
            .client
            .execute(
                "return document.documentElement.scrollHeight + outerHeight - innerHeight",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(u64::from(HEIGHT));
        let height = u32::try_from(height).unwrap_or(HEIGHT).clamp(HEIGHT, 6000);
        self.client.set_window_size(width, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.screenshots.join(format!("{name}-{width}.png")), png).unwrap();
    }

    /// The element matching `css`.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("no {css} on {}: {error}", self.path().await),
        }
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs `script` (a function body) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Runs `script` with a callback `done` as its last argument; the value given to it.
    pub async fn js_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute_async(script, args).await.unwrap()
    }

    /// Waits (up to 30 s) until `condition` (a JavaScript expression) is true.
    pub async fn wait_until(&self, condition: &str) {
        let started = Instant::now();
        loop {
            let script = format!("return !!({condition})");
            if self.js(&script, vec![]).await == Value::Bool(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still not {condition} on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session (and its Chromium); ChromeDriver goes on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver ends the Chromium it started when it goes.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
