//! A request to connect a git remote, checked before anything is stored: the URL under the remote
//! policy (`shared::remote`), the name, the credential (a token with its user name, or an SSH key
//! for an ssh remote) and the poll interval. Every refusal is a 422 whose detail names the field.

use std::ops::RangeInclusive;

use dashboard_shared::{
    Error,
    remote::{Remote, RemotePolicy},
};
use secrecy::SecretString;

use super::model::NewRepository;

/// How often a `git` remote may be polled, in seconds (the column's check).
pub const POLL_INTERVAL_SECONDS: RangeInclusive<i32> = 30..=86_400;
/// The poll interval of a remote connected without one: five minutes.
pub const DEFAULT_POLL_INTERVAL_SECONDS: i32 = 300;

/// What a private remote wants (its `Debug` shows no secret).
#[derive(Debug)]
pub enum Credential {
    /// An access token for an HTTPS remote, with the user name to send.
    Token {
        /// The user name sent with it (`git` when `None`).
        username: Option<String>,
        /// The token.
        token: SecretString,
    },
    /// An SSH private key for an ssh remote.
    SshKey(SecretString),
}

/// A checked request to connect a remote.
#[derive(Debug)]
pub struct Connection {
    /// The remote, accepted by the policy.
    pub remote: Remote,
    /// Its credential, if it needs one.
    pub credential: Option<Credential>,
    /// How often to poll it.
    pub poll_interval_seconds: i32,
}

impl Connection {
    /// Checks `new` under `policy`: each refusal is a 422 naming its field first.
    pub fn parse(policy: RemotePolicy, new: NewRepository) -> Result<Self, Error> {
        let url = new.url.trim();
        if url.is_empty() || url.len() > 2048 {
            return Err(invalid(
                "url",
                "must be a clone URL of 1 to 2048 characters",
            ));
        }
        let mut remote =
            Remote::parse(policy, url).map_err(|e| invalid("url", &format!("{e:#}")))?;
        if let Some(name) = new.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 300 || name.chars().any(char::is_control) {
                return Err(invalid("name", "must be 1 to 300 characters"));
            }
            name.clone_into(&mut remote.name);
        }
        let credential = parse_credential(&remote, new.token, new.ssh_key, new.username)?;
        let poll_interval_seconds = match new.poll_interval {
            Some(seconds) => check_poll_interval(seconds)?,
            None => DEFAULT_POLL_INTERVAL_SECONDS,
        };
        Ok(Self {
            remote,
            credential,
            poll_interval_seconds,
        })
    }
}

/// A 422 whose detail names `field` first.
fn invalid(field: &str, why: &str) -> Error {
    Error::Unprocessable(format!("{field}: {why}"))
}

/// The credential given for `remote`: a token (with a user name) or an SSH key, not both.
fn parse_credential(
    remote: &Remote,
    token: Option<String>,
    ssh_key: Option<String>,
    username: Option<String>,
) -> Result<Option<Credential>, Error> {
    let username = username.map(|u| u.trim().to_owned());
    match (token, ssh_key) {
        (Some(_), Some(_)) => Err(invalid("ssh_key", "give a token or an SSH key, not both")),
        (Some(token), None) => {
            let token = token.trim();
            if token.is_empty() || token.len() > 4096 || !token.chars().all(is_visible) {
                return Err(invalid(
                    "token",
                    "must be 1 to 4096 visible characters, without spaces",
                ));
            }
            if username
                .as_deref()
                .is_some_and(|u| u.is_empty() || u.len() > 255 || !u.chars().all(is_visible))
            {
                return Err(invalid(
                    "username",
                    "must be 1 to 255 visible characters, without spaces",
                ));
            }
            Ok(Some(Credential::Token {
                username,
                token: SecretString::from(token.to_owned()),
            }))
        }
        (None, Some(key)) => {
            let key = key.trim();
            if !key.starts_with("-----BEGIN ") || key.len() > 16_384 {
                return Err(invalid(
                    "ssh_key",
                    "not a private key in OpenSSH or PEM format",
                ));
            }
            if !remote.is_ssh() {
                return Err(invalid(
                    "ssh_key",
                    "an SSH key is for ssh remotes (ssh://… or user@host:path)",
                ));
            }
            if username.is_some() {
                return Err(invalid("username", "goes with a token, not an SSH key"));
            }
            Ok(Some(Credential::SshKey(SecretString::from(key.to_owned()))))
        }
        (None, None) if username.is_some() => Err(invalid("username", "goes with a token")),
        (None, None) => Ok(None),
    }
}

/// A printable character that is not a space.
fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control()
}

/// `seconds`, if a poll interval may be that (a 422 naming `poll_interval` otherwise).
pub fn check_poll_interval(seconds: i32) -> Result<i32, Error> {
    if POLL_INTERVAL_SECONDS.contains(&seconds) {
        Ok(seconds)
    } else {
        Err(Error::Unprocessable(format!(
            "poll_interval: must be between {} and {} seconds, not {seconds}",
            POLL_INTERVAL_SECONDS.start(),
            POLL_INTERVAL_SECONDS.end()
        )))
    }
}
