//! The webhook function's own settings: the GitHub App's webhook secrets and id ([`WebhookConfig`]),
//! how the route holds out against unauthenticated traffic ([`Limits`]) and how long what it stored
//! is kept ([`Retention`]).

use std::time::Duration;

use dashboard_shared::{
    config::{ConfigError, Env},
    crypto::SecretBox,
};
use secrecy::SecretString;

/// Secrets and ids GitHub App deliveries are checked against.
#[derive(Clone, Default)]
pub struct WebhookConfig {
    /// `GITHUB_WEBHOOK_SECRET`, then `GITHUB_WEBHOOK_SECRET_PREVIOUS` during a rotation. Empty when the
    /// App is not configured: only repository hooks the system created are accepted then.
    pub app_secrets: Vec<SecretString>,
    /// `GITHUB_APP_ID`: a `ping` from the App must carry this `hook.app_id`.
    pub app_id: Option<u64>,
    /// `SECRETS_ENCRYPTION_KEY`: opens the repository hooks' stored secrets.
    pub secret_box: Option<SecretBox>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field(
                "app_secrets",
                &format!("[{} redacted]", self.app_secrets.len()),
            )
            .field("app_id", &self.app_id)
            .field("secret_box", &self.secret_box.is_some())
            .finish()
    }
}

impl WebhookConfig {
    /// Reads the variables above (secrets trimmed of a trailing newline).
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        if env.get("GITHUB_WEBHOOK_SECRET").is_none()
            && env.get("GITHUB_WEBHOOK_SECRET_PREVIOUS").is_some()
        {
            return Err(ConfigError::Missing {
                name: "GITHUB_WEBHOOK_SECRET",
            });
        }
        let app_secrets = ["GITHUB_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET_PREVIOUS"]
            .into_iter()
            .filter(|name| env.get(name).is_some())
            .map(|name| env.secret(name))
            .collect::<Result<Vec<_>, _>>()?;
        let app_id = match env.get("GITHUB_APP_ID") {
            None => None,
            Some(_) => Some(env.parse_or("GITHUB_APP_ID", 0_u64)?),
        };
        let secret_box = SecretBox::from_lookup(env)?;
        Ok(Self {
            app_secrets,
            app_id,
            secret_box,
        })
    }
}

const MIB: usize = 1024 * 1024;

/// How `POST /webhooks/github` protects the pool and the instance from requests nobody signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `WEBHOOK_UNVERIFIED_MIB`: memory the bodies of requests not yet verified may hold together,
    /// counted as their bytes arrive, 25 to 4096 MiB (default 100). A request whose body would go
    /// beyond it is answered 503 at once; a verified delivery's body no longer counts.
    pub unverified_bytes: usize,
    /// `WEBHOOK_BODY_TIMEOUT_SECS`: the whole body must arrive within this, 1 to 300 s (default 20);
    /// a body still trickling in is answered 408 and its connection closed.
    pub body_timeout: Duration,
    /// How long a hook's secrets, or the fact that there is no such hook, are trusted (60 s).
    pub hook_cache_ttl: Duration,
    /// A delivery that fails against cached secrets (or a cached "no such hook") at least this old
    /// looks them up again, once for all such requests: a rotation or a new hook is seen within it (5 s).
    pub hook_refresh_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            unverified_bytes: 100 * MIB,
            body_timeout: Duration::from_secs(20),
            hook_cache_ttl: Duration::from_secs(60),
            hook_refresh_after: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Reads the variables above; the defaults for those unset.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            unverified_bytes: env.parse_in(
                "WEBHOOK_UNVERIFIED_MIB",
                defaults.unverified_bytes / MIB,
                25..=4096,
            )? * MIB,
            body_timeout: Duration::from_secs(env.parse_in(
                "WEBHOOK_BODY_TIMEOUT_SECS",
                defaults.body_timeout.as_secs(),
                1..=300,
            )?),
            ..defaults
        })
    }
}

/// The reconciler's window and a day more: a delivery it looks for is still stored.
const MIN_RETENTION_DAYS: u32 = crate::reconcile::WINDOW.num_days() as u32 + 1;

/// How long stored deliveries and finished jobs are kept (`dashboard-webhook purge`, daily).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// `RETENTION_DAYS`: done jobs and delivery bodies older than this are deleted, 4 to 3650 days
    /// (default 30). At least the reconciler's three days and one more: a delivery it finds stored
    /// is never redelivered.
    pub days: u32,
    /// `DEAD_JOB_RETENTION_DAYS`: a dead job not replayed within this is deleted, with its delivery
    /// once that is older than `days` too; 1 to 3650 (default 30).
    pub dead_job_days: u32,
    /// `UNROUTED_DELIVERIES_KEPT`: deliveries no tenant owns kept per installation (or per repository
    /// when they name no installation), the newest; 1 to 1,000,000 (default 1,000).
    pub unrouted_kept: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            days: 30,
            dead_job_days: 30,
            unrouted_kept: 1_000,
        }
    }
}

impl Retention {
    /// Reads the variables above; the defaults for those unset.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            days: env.parse_in("RETENTION_DAYS", defaults.days, MIN_RETENTION_DAYS..=3650)?,
            dead_job_days: env.parse_in(
                "DEAD_JOB_RETENTION_DAYS",
                defaults.dead_job_days,
                1..=3650,
            )?,
            unrouted_kept: env.parse_in(
                "UNROUTED_DELIVERIES_KEPT",
                defaults.unrouted_kept,
                1..=1_000_000,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn secrets_are_trimmed_and_kept_in_rotation_order() {
        let env = Env::from_pairs(&[
            ("GITHUB_WEBHOOK_SECRET", "new-secret\n"),
            ("GITHUB_WEBHOOK_SECRET_PREVIOUS", "old-secret\r\n"),
            ("GITHUB_APP_ID", "29310"),
        ]);
        let config = WebhookConfig::from_lookup(&env).unwrap();
        let secrets: Vec<&str> = config
            .app_secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        assert_eq!(secrets, ["new-secret", "old-secret"]);
        assert_eq!(config.app_id, Some(29310));
        assert!(!format!("{config:?}").contains("secret\""));
    }

    #[test]
    fn a_previous_secret_without_a_current_one_is_an_error() {
        let env = Env::from_pairs(&[("GITHUB_WEBHOOK_SECRET_PREVIOUS", "old")]);
        let error = WebhookConfig::from_lookup(&env).unwrap_err().to_string();
        assert!(error.contains("GITHUB_WEBHOOK_SECRET"), "{error}");
        let bad_id = Env::from_pairs(&[("GITHUB_APP_ID", "app")]);
        assert!(
            WebhookConfig::from_lookup(&bad_id)
                .unwrap_err()
                .to_string()
                .contains("GITHUB_APP_ID")
        );
    }

    #[test]
    fn limits_and_retention_default_and_refuse_values_out_of_range() {
        let empty = Env::from_pairs(&[]);
        assert_eq!(Limits::from_lookup(&empty).unwrap(), Limits::default());
        assert_eq!(
            Retention::from_lookup(&empty).unwrap(),
            Retention::default()
        );
        let set = Env::from_pairs(&[
            ("WEBHOOK_UNVERIFIED_MIB", "32"),
            ("WEBHOOK_BODY_TIMEOUT_SECS", "3"),
            ("RETENTION_DAYS", "7"),
            ("UNROUTED_DELIVERIES_KEPT", "10"),
        ]);
        let limits = Limits::from_lookup(&set).unwrap();
        assert_eq!(
            (limits.unverified_bytes, limits.body_timeout),
            (32 * MIB, Duration::from_secs(3))
        );
        let retention = Retention::from_lookup(&set).unwrap();
        assert_eq!(
            (
                retention.days,
                retention.dead_job_days,
                retention.unrouted_kept
            ),
            (7, 30, 10)
        );
        for (name, value) in [
            ("WEBHOOK_UNVERIFIED_MIB", "24"),
            ("WEBHOOK_BODY_TIMEOUT_SECS", "forever"),
            ("RETENTION_DAYS", "3"),
            ("DEAD_JOB_RETENTION_DAYS", "0"),
        ] {
            let env = Env::from_pairs(&[(name, value)]);
            let error = match Limits::from_lookup(&env) {
                Err(error) => error.to_string(),
                Ok(_) => Retention::from_lookup(&env).unwrap_err().to_string(),
            };
            assert!(error.contains(name), "{error}");
        }
    }
}
