//! What a private remote wants, and the one place it is handed to gix: a credential callback that
//! answers only for the remote's own origin.

use secrecy::{ExposeSecret as _, SecretString};

use crate::remote;

/// What a private remote wants; never logged.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// HTTP Basic: a user name and a password or token (GitHub: `x-access-token` and an
    /// installation token).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: SecretString,
    },
    /// An SSH private key (OpenSSH format) for `ssh://` and `user@host:path` remotes, handed to
    /// `ssh` (or `$DASHBOARD_SSH`) in a file only its owner reads, for the length of one fetch.
    SshKey(SecretString),
}

impl Credentials {
    /// What GitHub wants for a GitHub App installation token.
    pub fn github_installation(token: SecretString) -> Self {
        Self::Basic {
            username: "x-access-token".into(),
            password: token,
        }
    }
}

/// The credential callback of an HTTP connection to `origin`: it answers only when asked for that
/// origin (scheme, host and port; gix asks with the URL it was redirected to), and never runs a
/// credential helper or prompts.
pub(crate) fn credential_callback(
    origin: gix::Url,
    basic: Option<(String, SecretString)>,
) -> impl FnMut(
    gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
+ 'static {
    move |action| {
        let gix::credentials::helper::Action::Get(context) = action else {
            return Ok(None);
        };
        let (Some((username, password)), Some(asked)) = (&basic, asked_url(&context)) else {
            return Ok(None);
        };
        if !remote::same_origin(&origin, &asked) {
            tracing::warn!(
                asked = asked.host().unwrap_or("?"),
                "a credential was asked for another origin than the remote's: none given"
            );
            return Ok(None);
        }
        Ok(Some(gix::credentials::protocol::Outcome {
            identity: gix::sec::identity::Account {
                username: username.clone(),
                password: password.expose_secret().to_owned(),
                oauth_refresh_token: None,
            },
            next: context.into(),
        }))
    }
}

/// The URL a credential is asked for.
fn asked_url(context: &gix::credentials::protocol::Context) -> Option<gix::Url> {
    match &context.url {
        Some(url) => gix::Url::from_bytes(url.as_ref()).ok(),
        None => {
            let url = format!(
                "{}://{}/",
                context.protocol.as_ref()?,
                context.host.as_ref()?
            );
            gix::Url::from_bytes(url.as_str().into()).ok()
        }
    }
}
