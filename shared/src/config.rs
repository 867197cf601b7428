//! Configuration from environment variables, parsed once at start-up into a typed [`Config`].
//! A missing or malformed variable fails start-up with an error naming the variable; secrets are
//! wrapped in [`SecretString`] so they never print.

use std::{fmt, str::FromStr};

use secrecy::{ExposeSecret as _, SecretString};

/// Why the environment could not be turned into a [`Config`]. Never contains a secret's value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("environment variable {name} is required but not set")]
    Missing { name: &'static str },
    /// A variable is set to a value that cannot be used.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How log lines are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    /// Cloud Logging's structured JSON, one object per line (`tracing-stackdriver`).
    Json {
        /// `GOOGLE_CLOUD_PROJECT`: the project whose Cloud Trace a request's trace id belongs to.
        /// With it, each entry written inside a traced request carries
        /// `logging.googleapis.com/trace` (`projects/P/traces/T`), which Cloud Logging correlates
        /// on; without it, the trace id stays a span field only.
        trace_project: Option<String>,
    },
    /// Human-readable lines, for a terminal.
    Text,
}

/// Settings every function needs. Each field documents its variable; `.env.example` lists them all.
#[derive(Clone)]
pub struct Config {
    /// `PORT`: TCP port to listen on (Cloud Run sets it). Default 8080.
    pub port: u16,
    /// `DATABASE_URL`: PostgreSQL URL of the runtime role (`dashboard_app`). Required.
    pub database_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`: pool size per instance, 1 to 100. Default 5.
    pub database_max_connections: u32,
    /// `LOG_FORMAT`: `json` or `text`. Default `json` on Cloud Run (`K_SERVICE` set), else `text`.
    pub log_format: LogFormat,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("database_url", &"[redacted]")
            .field("database_max_connections", &self.database_max_connections)
            .field("log_format", &self.log_format)
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&Env::process())
    }

    /// Reads variables through `env`, so tests can supply their own.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            port: env.parse_or("PORT", 8080)?,
            database_url: env.postgres_url("DATABASE_URL")?,
            database_max_connections: env.parse_in("DATABASE_MAX_CONNECTIONS", 5, 1..=100)?,
            log_format: LogFormat::from_lookup(env)?,
        })
    }
}

impl LogFormat {
    /// `LOG_FORMAT` if set, else JSON on Cloud Run (`K_SERVICE` set) and text elsewhere; for JSON,
    /// the trace project from `GOOGLE_CLOUD_PROJECT`.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        let json = || {
            Ok(Self::Json {
                trace_project: trace_project(env)?,
            })
        };
        match env.get("LOG_FORMAT").as_deref() {
            Some("json") => json(),
            Some("text") => Ok(Self::Text),
            Some(other) => Err(ConfigError::Invalid {
                name: "LOG_FORMAT",
                reason: format!("expected `json` or `text`, got `{other}`"),
            }),
            None if env.get("K_SERVICE").is_some() => json(),
            None => Ok(Self::Text),
        }
    }
}

/// `GOOGLE_CLOUD_PROJECT`, when set: a project id (6 to 30 lowercase letters, digits and hyphens,
/// starting with a letter), which goes verbatim into every log entry's trace field.
fn trace_project(env: &Env) -> Result<Option<String>, ConfigError> {
    let Some(project) = env.get("GOOGLE_CLOUD_PROJECT") else {
        return Ok(None);
    };
    let project = project.trim();
    let valid = (6..=30).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_lowercase())
        && !project.ends_with('-')
        && project
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(Some(project.to_owned()))
    } else {
        Err(ConfigError::Invalid {
            name: "GOOGLE_CLOUD_PROJECT",
            reason: format!("`{project}` is not a project id"),
        })
    }
}

/// A source of environment variables: the process, or a fixed list in tests.
pub enum Env {
    /// The process environment.
    Process,
    /// A fixed set of `(name, value)` pairs.
    Fixed(Vec<(String, String)>),
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self::Process
    }

    /// A fixed set of variables.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::Fixed(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// The variable's value; unset and empty both count as absent.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match self {
            Self::Process => std::env::var(name).ok(),
            Self::Fixed(pairs) => pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        };
        value.filter(|value| !value.trim().is_empty())
    }

    /// A required secret. Surrounding whitespace (a trailing newline from a secret file) is trimmed.
    pub fn secret(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        self.get(name)
            .map(|value| SecretString::from(value.trim().to_owned()))
            .ok_or(ConfigError::Missing { name })
    }

    /// A required PostgreSQL URL, kept secret (it usually holds a password). A malformed one is
    /// reported by name, without its value.
    pub fn postgres_url(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        let url = self.secret(name)?;
        match url
            .expose_secret()
            .parse::<sqlx::postgres::PgConnectOptions>()
        {
            Ok(_) => Ok(url),
            Err(_) => Err(ConfigError::Invalid {
                name,
                reason: "not a PostgreSQL URL (postgres://user:password@host:port/database)".into(),
            }),
        }
    }

    /// An optional value parsed with `FromStr`, or `default` when absent.
    pub fn parse_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|error: T::Err| ConfigError::Invalid {
                    name,
                    reason: format!("`{raw}`: {error}"),
                }),
        }
    }

    /// Like [`Env::parse_or`], and the value must lie in `range`.
    pub fn parse_in<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + fmt::Display,
        T::Err: fmt::Display,
    {
        let value = self.parse_or(name, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name,
                reason: format!("{value} is outside {}..={}", range.start(), range.end()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_only_the_database_url_is_set() {
        let env = Env::from_pairs(&[("DATABASE_URL", "postgres://u:p@h/db\n")]);
        let config = Config::from_lookup(&env).unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.database_max_connections, 5);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.database_url.expose_secret(), "postgres://u:p@h/db");
    }

    #[test]
    fn a_missing_database_url_is_named() {
        let error = Config::from_lookup(&Env::from_pairs(&[])).unwrap_err();
        assert_eq!(
            error,
            ConfigError::Missing {
                name: "DATABASE_URL"
            }
        );
        assert!(error.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn a_malformed_port_is_named_with_its_value() {
        let env = Env::from_pairs(&[("DATABASE_URL", "postgres://x"), ("PORT", "80a")]);
        let error = Config::from_lookup(&env).unwrap_err().to_string();
        assert!(error.contains("PORT") && error.contains("80a"), "{error}");
    }

    #[test]
    fn pool_size_out_of_range_is_rejected() {
        let env = Env::from_pairs(&[
            ("DATABASE_URL", "postgres://x"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
        ]);
        let error = Config::from_lookup(&env).unwrap_err().to_string();
        assert!(error.contains("DATABASE_MAX_CONNECTIONS"), "{error}");
    }

    #[test]
    fn cloud_run_logs_json_unless_told_otherwise() {
        let on_cloud_run = Env::from_pairs(&[("K_SERVICE", "api")]);
        assert_eq!(
            LogFormat::from_lookup(&on_cloud_run).unwrap(),
            LogFormat::Json {
                trace_project: None
            }
        );
        let forced = Env::from_pairs(&[("K_SERVICE", "api"), ("LOG_FORMAT", "text")]);
        assert_eq!(LogFormat::from_lookup(&forced).unwrap(), LogFormat::Text);
        let wrong = Env::from_pairs(&[("LOG_FORMAT", "xml")]);
        assert!(
            LogFormat::from_lookup(&wrong)
                .unwrap_err()
                .to_string()
                .contains("LOG_FORMAT")
        );
    }

    #[test]
    fn json_logs_carry_the_trace_project_from_google_cloud_project() {
        let env = Env::from_pairs(&[
            ("K_SERVICE", "api"),
            ("GOOGLE_CLOUD_PROJECT", "dash-prod-1"),
        ]);
        assert_eq!(
            LogFormat::from_lookup(&env).unwrap(),
            LogFormat::Json {
                trace_project: Some("dash-prod-1".into())
            }
        );
        for bad in ["Dash", "abc", "dash/../x", "dash-prod-", "\"x\"-project"] {
            let env = Env::from_pairs(&[("LOG_FORMAT", "json"), ("GOOGLE_CLOUD_PROJECT", bad)]);
            let error = LogFormat::from_lookup(&env).unwrap_err().to_string();
            assert!(error.contains("GOOGLE_CLOUD_PROJECT"), "{bad}: {error}");
        }
        // Text logs have no trace field: the variable is not even read.
        let text = Env::from_pairs(&[("LOG_FORMAT", "text"), ("GOOGLE_CLOUD_PROJECT", "Bad")]);
        assert_eq!(LogFormat::from_lookup(&text).unwrap(), LogFormat::Text);
    }

    #[test]
    fn a_malformed_database_url_is_named_but_not_shown() {
        let env = Env::from_pairs(&[("DATABASE_URL", "mysql//hunter2")]);
        let error = Config::from_lookup(&env).unwrap_err().to_string();
        assert!(
            error.contains("DATABASE_URL") && !error.contains("hunter2"),
            "{error}"
        );
    }

    #[test]
    fn debug_output_never_shows_the_database_url() {
        let env = Env::from_pairs(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]);
        let shown = format!("{:?}", Config::from_lookup(&env).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
