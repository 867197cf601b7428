//! Helpers for tests (feature `test-support`): [`SmtpSink`], a real SMTP server (PyPI `aiosmtpd`,
//! installed by `scripts/test` into `target/tools/aiosmtpd` and named by `AIOSMTPD_PATH`) on a
//! loopback port, whose received mails a test reads back, e.g. to follow a verification link.

use std::{
    collections::HashSet,
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::Context as _;

/// How long [`SmtpSink::start`] waits for the server and [`SmtpSink::next_message`] for a mail.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

/// A running `aiosmtpd` storing every mail in a maildir; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    url: String,
    maildir: tempfile::TempDir,
    seen: Mutex<HashSet<PathBuf>>,
}

/// A mail the sink received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The decoded plain-text body.
    pub text: String,
}

impl ReceivedMail {
    /// The first `http://` or `https://` link in the body.
    pub fn link(&self) -> Option<&str> {
        let start = self
            .text
            .find("https://")
            .into_iter()
            .chain(self.text.find("http://"))
            .min()?;
        self.text[start..].split_whitespace().next()
    }
}

impl SmtpSink {
    /// Starts the server on a free loopback port and waits until it accepts connections. Fails
    /// (never skips) when aiosmtpd is not installed: run `scripts/test` once, or set
    /// `AIOSMTPD_PATH` to a `pip install --target` folder holding it.
    pub async fn start() -> anyhow::Result<Self> {
        let packages = aiosmtpd_path()?;
        let maildir = tempfile::tempdir().context("failed to create a maildir")?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A folder that does not exist yet: Python's Maildir creates tmp/, new/ and cur/ only then.
            .arg(maildir.path().join("maildir"))
            .env("PYTHONPATH", &packages)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("failed to run python3 -m aiosmtpd")?;
        let mut sink = Self {
            child,
            url: format!("smtp://127.0.0.1:{port}"),
            maildir,
            seen: Mutex::new(HashSet::new()),
        };
        sink.wait_until_listening(port).await?;
        Ok(sink)
    }

    /// The `SMTP_URL` of the server (`smtp://127.0.0.1:PORT`, no TLS, no authentication).
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_until_listening(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("aiosmtpd exited at start ({status}); see its output above");
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "aiosmtpd did not listen in time");
            tokio::time::sleep(POLL).await;
        }
    }

    /// The oldest mail not returned yet, waiting up to 15 s for one to arrive.
    pub async fn next_message(&self) -> anyhow::Result<ReceivedMail> {
        let new = self.maildir.path().join("maildir").join("new");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(path) = self.oldest_unseen(&new)? {
                let raw = std::fs::read(&path)
                    .with_context(|| format!("failed to read {}", path.display()))?;
                return parse(&raw);
            }
            anyhow::ensure!(Instant::now() < deadline, "no mail arrived within {WAIT:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Marks and returns the oldest file of `new` not returned before.
    fn oldest_unseen(&self, new: &Path) -> anyhow::Result<Option<PathBuf>> {
        let Ok(entries) = std::fs::read_dir(new) else {
            return Ok(None); // the maildir is created with the first mail
        };
        let mut seen = self.seen.lock().expect("the seen set is poisoned");
        let mut unseen = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !seen.contains(&entry.path()) {
                unseen.push((entry.metadata()?.modified()?, entry.path()));
            }
        }
        let oldest = unseen.into_iter().min().map(|(_, path)| path);
        if let Some(path) = &oldest {
            seen.insert(path.clone());
        }
        Ok(oldest)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where aiosmtpd is installed: `AIOSMTPD_PATH`, else `target/tools/aiosmtpd` of the workspace.
fn aiosmtpd_path() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("AIOSMTPD_PATH") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/aiosmtpd"),
    };
    anyhow::ensure!(
        path.join("aiosmtpd").is_dir(),
        "aiosmtpd is not installed at {}: run scripts/test (it installs it into \
         target/tools/aiosmtpd) or set AIOSMTPD_PATH",
        path.display()
    );
    Ok(path)
}

/// Recipients from the `X-RcptTo` header aiosmtpd adds, subject and text body.
fn parse(raw: &[u8]) -> anyhow::Result<ReceivedMail> {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .context("a received mail does not parse")?;
    let to = message
        .header_raw("X-RcptTo")
        .unwrap_or_default()
        .split(',')
        .map(|address| address.trim().to_owned())
        .filter(|address| !address.is_empty())
        .collect();
    Ok(ReceivedMail {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
    })
}
