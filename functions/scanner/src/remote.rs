//! How the scanner fetches under the one remote policy ([`dashboard_shared::remote`], which says
//! which URLs and addresses may be fetched at all): the fetch settings ([`FetchPolicy`]), and on
//! Cloud Run the HTTP client's name resolution ([`GuardedResolver`]), so that HTTP connects only to
//! the addresses that were checked (ssh connects to the address checked, `HostName`) and a name
//! cannot rebind between the check and the connection.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use dashboard_shared::config::Env;
pub use dashboard_shared::remote::{
    Checked, RemotePolicy, check_addresses, forbidden, forbidden_name, same_origin,
};
use gix::protocol::transport::client::blocking_io::http;

/// How the scanner fetches: which remotes, and how much a fetch may receive.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Which remotes may be fetched.
    pub remotes: RemotePolicy,
    /// The pack bytes one fetch may receive (`SCANNER_MAX_MIRROR_BYTES`).
    pub max_mirror_bytes: u64,
    /// The ssh program for ssh remotes (`DASHBOARD_SSH`, default `ssh`).
    pub ssh_program: String,
}

impl FetchPolicy {
    /// The default mirror size cap: 2 GiB.
    pub const DEFAULT_MAX_MIRROR_BYTES: u64 = 2 << 30;

    /// `remotes`, with the cap from `SCANNER_MAX_MIRROR_BYTES` (default 2 GiB) and the ssh program
    /// from `DASHBOARD_SSH`.
    pub fn from_lookup(remotes: RemotePolicy, env: &Env) -> anyhow::Result<Self> {
        let max_mirror_bytes = match env.get("SCANNER_MAX_MIRROR_BYTES") {
            Some(text) => text.trim().parse().map_err(|_| {
                anyhow::anyhow!("SCANNER_MAX_MIRROR_BYTES must be a number of bytes, not `{text}`")
            })?,
            None => Self::DEFAULT_MAX_MIRROR_BYTES,
        };
        Ok(Self {
            remotes,
            max_mirror_bytes,
            ssh_program: env.get("DASHBOARD_SSH").unwrap_or_else(|| "ssh".into()),
        })
    }

    /// `remotes` with the default cap and `ssh`.
    pub fn new(remotes: RemotePolicy) -> Self {
        Self {
            remotes,
            max_mirror_bytes: Self::DEFAULT_MAX_MIRROR_BYTES,
            ssh_program: "ssh".into(),
        }
    }
}

/// The HTTP client's name resolution on Cloud Run: every name the client connects to (the remote's,
/// or one it redirects to) is resolved here and refused if any of its addresses is; the client
/// connects to exactly the addresses checked.
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if let Some(reason) = forbidden_name(&host) {
                return Err(format!("refusing {host}: {reason}").into());
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addresses: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
            check_addresses(&host, &addresses).map_err(|e| e.to_string())?;
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `options` for an HTTP(S) fetch on Cloud Run: names resolved through [`GuardedResolver`], no
/// proxy, and no redirect (one could lead to an address literal, which no resolver sees).
pub fn hosted_http(mut options: http::Options) -> http::Options {
    options.follow_redirects = http::options::FollowRedirects::None;
    options.backend = Some(Arc::new(Mutex::new(http::reqwest::Options {
        configure_client: Some(Box::new(|builder| {
            Ok(builder.no_proxy().dns_resolver(Arc::new(GuardedResolver)))
        })),
        configure_request: None,
    })));
    options
}

#[cfg(test)]
mod tests;
