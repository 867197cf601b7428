//! The webhook function's own settings: the GitHub App's webhook secrets and id.

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
}
