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
    /// From `SMTP_URL` and `MAIL_FROM`; without `SMTP_URL`, mails go to `default_directory`,
    /// except on Cloud Run (`K_SERVICE` set), where that would put sign-in links in the log and on
    /// a disk nobody reads: there `SMTP_URL` is required.
    pub fn from_env(env: &Env, default_directory: &Path) -> anyhow::Result<Self> {
        let from = env.get("MAIL_FROM");
        let from = parse_from(from.as_deref().unwrap_or(DEFAULT_FROM))?;
        match env.get("SMTP_URL") {
            Some(url) => Self::smtp(&SecretString::from(url.trim().to_owned()), from),
            None if env.get("K_SERVICE").is_some() => {
                anyhow::bail!("SMTP_URL is required on Cloud Run (smtps://user:password@host)")
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SmtpSink;

    fn reset_mail(to: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Reset your Dashboard password".to_owned(),
            text: "Someone asked to reset your password. Follow this link within an hour:"
                .to_owned(),
            link: Some("http://127.0.0.1:8080/reset#token=Zm9vYmFy-0123456789".to_owned()),
        }
    }

    #[tokio::test]
    async fn a_mail_sent_over_smtp_arrives_with_its_recipient_subject_and_link() {
        let sink = SmtpSink::start().await.unwrap();
        let env = Env::from_pairs(&[
            ("SMTP_URL", sink.url()),
            ("MAIL_FROM", "Dash <d@example.test>"),
        ]);
        let mailer = Mailer::from_env(&env, Path::new("/nonexistent")).unwrap();

        mailer
            .send(&reset_mail("Ann <ann@example.test>"))
            .await
            .unwrap();

        let received = sink.next_message().await.unwrap();
        assert_eq!(received.to, ["ann@example.test"]);
        assert_eq!(received.subject, "Reset your Dashboard password");
        assert!(received.text.starts_with("Someone asked to reset"));
        assert_eq!(
            received.link(),
            Some("http://127.0.0.1:8080/reset#token=Zm9vYmFy-0123456789")
        );
    }

    #[tokio::test]
    async fn the_sink_returns_each_mail_once_in_the_order_it_arrived() {
        let sink = SmtpSink::start().await.unwrap();
        let url = SecretString::from(sink.url().to_owned());
        let mailer = Mailer::smtp(&url, DEFAULT_FROM.parse().unwrap()).unwrap();
        for to in ["first@example.test", "second@example.test"] {
            mailer.send(&reset_mail(to)).await.unwrap();
        }
        assert_eq!(
            sink.next_message().await.unwrap().to,
            ["first@example.test"]
        );
        assert_eq!(
            sink.next_message().await.unwrap().to,
            ["second@example.test"]
        );
    }

    #[tokio::test]
    async fn without_smtp_url_mails_are_written_as_eml_files() {
        let directory = tempfile::tempdir().unwrap();
        let folder = directory.path().join("mail");
        let mailer = Mailer::from_env(&Env::from_pairs(&[]), &folder).unwrap();

        mailer.send(&reset_mail("ann@example.test")).await.unwrap();

        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().unwrap().path();
        assert_eq!(path.extension().unwrap(), "eml");
        let content = std::fs::read_to_string(&path).unwrap();
        assert!(content.contains("To: ann@example.test"), "{content}");
        assert!(
            content.contains("From: Dashboard <no-reply@localhost>"),
            "{content}"
        );
        assert!(content.contains("Subject: Reset your Dashboard password"));
        assert!(content.contains("http://127.0.0.1:8080/reset#token=Zm9vYmFy-0123456789"));
    }

    #[tokio::test]
    async fn the_smtp_password_shows_neither_in_debug_nor_in_errors() {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let env = Env::from_pairs(&[("SMTP_URL", "smtp://mailer:hunter2-s3cret@127.0.0.1:9")]);
        let mailer = Mailer::from_env(&env, Path::new("/nonexistent")).unwrap();
        let debug = format!("{mailer:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("smtp://mailer:***@127.0.0.1:9"), "{debug}");

        let error = mailer
            .send(&reset_mail("ann@example.test"))
            .await
            .unwrap_err();
        assert!(!format!("{error:#} {error:?}").contains("hunter2"));

        for url in [
            "bogus://mailer:hunter2@host",
            "smtp://mailer:hunter2@",
            "not a url hunter2",
        ] {
            let env = Env::from_pairs(&[("SMTP_URL", url)]);
            let error = Mailer::from_env(&env, Path::new("/")).unwrap_err();
            assert!(
                !format!("{error:#} {error:?}").contains("hunter2"),
                "{url}: {error:#}"
            );
        }
    }

    #[tokio::test]
    async fn a_recipient_must_be_one_address_and_the_subject_one_line() {
        let directory = tempfile::tempdir().unwrap();
        let mailer = Mailer::directory(directory.path(), DEFAULT_FROM.parse().unwrap());
        for to in [
            "ann@example.test, eve@example.test",
            "ann@example.test\r\nBcc: eve@example.test",
            "ann",
        ] {
            assert!(mailer.send(&reset_mail(to)).await.is_err(), "{to}");
        }

        let mut injected = reset_mail("ann@example.test");
        injected.subject = "Hello\r\nBcc: eve@example.test".to_owned();
        mailer.send(&injected).await.unwrap();
        let path = std::fs::read_dir(directory.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let content = std::fs::read_to_string(path).unwrap();
        assert!(
            !content.lines().any(|line| line.starts_with("Bcc:")),
            "{content}"
        );
    }

    #[test]
    fn on_cloud_run_smtp_is_required() {
        let env = Env::from_pairs(&[("K_SERVICE", "api")]);
        let error = Mailer::from_env(&env, Path::new("/tmp")).unwrap_err();
        assert!(
            error.to_string().contains("SMTP_URL is required"),
            "{error}"
        );
    }

    #[test]
    fn a_malformed_mail_from_is_refused_by_name() {
        let env = Env::from_pairs(&[("MAIL_FROM", "not an address")]);
        let error = Mailer::from_env(&env, Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("MAIL_FROM"), "{error}");
    }
}
