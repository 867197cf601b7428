//! Outgoing mail (email verification, password reset, invitations). With `SMTP_URL` set, mails go
//! through that server (`lettre`, rustls); without it (local use) each mail is written as an `.eml`
//! file into a directory (`.dashboard/mail/`) and its link is logged, so a developer can follow it
//! from `dashboard up`'s log.
//!
//! `SMTP_URL` takes lettre's forms: `smtps://user:password@host` (TLS from the start, port 465),
//! `smtp://user:password@host:587?tls=required` (STARTTLS), `smtp://127.0.0.1:2525` (no TLS: tests
//! and local relays only). `MAIL_FROM` is the sender (default `Dashboard <no-reply@localhost>`).
//! The SMTP password never appears in `Debug` output or errors.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use dashboard_shared::config::Env;
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use secrecy::{ExposeSecret as _, SecretString};

/// The sender when `MAIL_FROM` is unset.
pub const DEFAULT_FROM: &str = "Dashboard <no-reply@localhost>";
/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One mail to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address (one address, optionally with a name: `Ann <ann@example.com>`).
    pub to: String,
    /// The subject line (line breaks become spaces).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The link the mail is about (verification, reset, invitation), appended to the body on its
    /// own line; logged by the directory mailer only.
    pub link: Option<String>,
}

/// Sends [`Mail`]s over SMTP or into a directory.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `SMTP_URL` with its password replaced, for `Debug`.
        redacted_url: String,
    },
    Directory(PathBuf),
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Mailer");
        debug.field("from", &self.from.to_string());
        match &self.transport {
            Transport::Smtp { redacted_url, .. } => debug.field("smtp", redacted_url),
            Transport::Directory(directory) => debug.field("directory", directory),
        };
        debug.finish()
    }
}

impl Mailer {
    /// From `SMTP_URL` and `MAIL_FROM`; without `SMTP_URL`, mails go to `default_directory`.
    pub fn from_env(env: &Env, default_directory: &Path) -> anyhow::Result<Self> {
        let from = env.get("MAIL_FROM");
        let from = parse_from(from.as_deref().unwrap_or(DEFAULT_FROM))?;
        match env.get("SMTP_URL") {
            Some(url) => Self::smtp(&SecretString::from(url.trim().to_owned()), from),
            None => Ok(Self::directory(default_directory, from)),
        }
    }

    /// Sends through the SMTP server at `url` (see the module documentation for its forms).
    pub fn smtp(url: &SecretString, from: Mailbox) -> anyhow::Result<Self> {
        let redacted_url = redact(url.expose_secret())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|error| anyhow::anyhow!("SMTP_URL ({redacted_url}) is not usable: {error}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            from,
            transport: Transport::Smtp {
                transport,
                redacted_url,
            },
        })
    }

    /// Writes each mail as an `.eml` file into `directory` (created when needed).
    pub fn directory(directory: &Path, from: Mailbox) -> Self {
        Self {
            from,
            transport: Transport::Directory(directory.to_owned()),
        }
    }

    /// Sends `mail`. Fails on an invalid recipient or when the server refuses it.
    pub async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        let message = self.message(mail)?;
        match &self.transport {
            Transport::Smtp { transport, .. } => {
                transport
                    .send(message)
                    .await
                    .context("the SMTP server did not accept a mail")?;
                tracing::info!(mail.subject = %mail.subject, "mail sent");
            }
            Transport::Directory(directory) => {
                let file = write_eml(directory, message.formatted()).await?;
                tracing::info!(
                    mail.subject = %mail.subject,
                    mail.file = %file.display(),
                    mail.link = mail.link.as_deref().unwrap_or("-"),
                    "mail written (SMTP_URL is not set)"
                );
            }
        }
        Ok(())
    }

    fn message(&self, mail: &Mail) -> anyhow::Result<Message> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| anyhow::anyhow!("the recipient is not one valid email address"))?;
        let subject: String = mail
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let body = match &mail.link {
            Some(link) => format!("{}\n\n{link}\n", mail.text.trim_end()),
            None => mail.text.clone(),
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("failed to build a mail")
    }
}

/// `MAIL_FROM` as a mailbox.
fn parse_from(from: &str) -> anyhow::Result<Mailbox> {
    from.trim().parse().map_err(|_| {
        anyhow::anyhow!("MAIL_FROM (`{from}`) is not a mailbox such as `Name <a@b.c>`")
    })
}

/// The URL with its password (if any) replaced by `***`; nothing of an unparseable one.
fn redact(url: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)
        .map_err(|_| anyhow::anyhow!("SMTP_URL is not a URL (smtp://user:password@host:port)"))?;
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    Ok(parsed.to_string())
}

/// Writes one mail into `directory` under a new, time-ordered name and returns its path.
async fn write_eml(directory: &Path, content: Vec<u8>) -> anyhow::Result<PathBuf> {
    let file = directory.join(format!("{}.eml", uuid::Uuid::now_v7()));
    let directory = directory.to_owned();
    let path = file.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("failed to create {}", directory.display()))?;
        std::fs::write(&path, content)
            .with_context(|| format!("failed to write {}", path.display()))
    })
    .await
    .context("writing a mail failed")??;
    Ok(file)
}
