//! The scanner's configurable caps (the plan's `max_projects`, per tenant, is read from its row).

use dashboard_shared::config::{ConfigError, Env};

/// Bounds on the work one job takes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `SCANNER_MAX_COMMITS_PER_POLL`: the most commits one poll ingests (1 to 1,000,000, default
    /// 10,000); a branch with more is taken up to an ancestor within the cap, the rest next poll.
    pub max_commits_per_poll: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_commits_per_poll: 10_000,
        }
    }
}

impl Limits {
    /// Reads the caps through `env`; an unset variable keeps its default.
    pub fn from_lookup(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            max_commits_per_poll: env.parse_in(
                "SCANNER_MAX_COMMITS_PER_POLL",
                defaults.max_commits_per_poll,
                1..=1_000_000,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_cap_defaults_and_refuses_zero() {
        assert_eq!(
            Limits::from_lookup(&Env::from_pairs(&[])),
            Ok(Limits::default())
        );
        let set = Env::from_pairs(&[("SCANNER_MAX_COMMITS_PER_POLL", "25")]);
        assert_eq!(Limits::from_lookup(&set).unwrap().max_commits_per_poll, 25);
        let zero = Env::from_pairs(&[("SCANNER_MAX_COMMITS_PER_POLL", "0")]);
        let error = Limits::from_lookup(&zero).unwrap_err().to_string();
        assert!(error.contains("SCANNER_MAX_COMMITS_PER_POLL"), "{error}");
    }
}
