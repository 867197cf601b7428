//! The one remote policy every fetch goes through (a connected repository, a submodule, a poll,
//! `dashboard scan`, `dashboard repo add`, `POST /api/v2/orgs/{org}/repositories`): which URLs may
//! be fetched at all, and, on Cloud Run, which addresses their hosts may resolve to. Here, beside
//! the rest of what two functions share, so that the API checks a URL on connect exactly as the
//! scanner does on fetch, with only `gix-url` (no git implementation); the scanner's HTTP client
//! resolves names through the same address checks (`dashboard_scanner::remote`).
//!
//! - Everywhere: `https://` and ssh (`ssh://`, `user@host:path`); plain `http://` only to loopback;
//!   no user information in an http(s) URL and no password in any (it would be stored in clear).
//! - [`RemotePolicy::Local`] (`dashboard up`, `scan`, `repo`: one operator on their own machine) also
//!   allows `file://`, local paths and `git://` (never `ext::`, which runs a command).
//! - [`RemotePolicy::Hosted`] (the deployed functions) refuses hosts that are, or resolve to,
//!   loopback, private, link-local, CGNAT, unspecified or the metadata server — every address a name
//!   resolves to is checked.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs as _},
    path::{Path, PathBuf},
};

use gix_url::Scheme;

/// Which remotes may be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemotePolicy {
    /// A shared service (Cloud Run): public https and ssh remotes only.
    Hosted,
    /// One operator on their own machine: also local paths, `file://`, `git://` and
    /// loopback hosts.
    Local,
}

/// A remote the policy accepted.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The parsed URL.
    pub url: gix_url::Url,
    /// The addresses its host resolved to, each checked ([`RemotePolicy::Hosted`] only; empty in
    /// local mode).
    pub addresses: Vec<IpAddr>,
}

impl RemotePolicy {
    /// Whether `url` may be fetched, before any name resolution: the scheme, user information and
    /// hosts that are refused by their name or literal address. Returns the parsed URL.
    pub fn check_url(self, url: &str) -> anyhow::Result<gix_url::Url> {
        let parsed = gix_url::Url::from_bytes(url.into())
            .map_err(|_| anyhow::anyhow!("not a repository URL"))?;
        anyhow::ensure!(
            parsed.password().is_none(),
            "the URL holds a password: give the token separately (`token`, or `--token-file` on the command line), so that it is stored encrypted and never shown"
        );
        let host = parsed.host().map(bare_host);
        match parsed.scheme {
            Scheme::Https | Scheme::Ssh => {}
            Scheme::Http => anyhow::ensure!(
                host.is_some_and(is_loopback_name),
                "plain http is only allowed to loopback; use https"
            ),
            Scheme::File | Scheme::Git if self == Self::Local => {}
            Scheme::Ext => anyhow::bail!("ext:: remotes run a command: never fetched"),
            ref other => anyhow::bail!(
                "{} remotes are only allowed in local mode (dashboard up, scan, repo)",
                describe(other)
            ),
        }
        if matches!(parsed.scheme, Scheme::Http | Scheme::Https) {
            anyhow::ensure!(
                parsed.user().is_none(),
                "the URL holds user information: give the token separately (`token`, or `--token-file` on the command line), so that it is stored encrypted and never shown"
            );
        }
        if self == Self::Hosted {
            let host = host.ok_or_else(|| anyhow::anyhow!("`{url}` names no host"))?;
            if let Some(reason) = forbidden_name(host) {
                anyhow::bail!("refusing {host}: {reason}");
            }
        }
        Ok(parsed)
    }

    /// Whether a submodule at `sub` may be fetched for the superproject at `parent`: on Cloud Run
    /// only from the superproject's origin (scheme, host and port); locally from its host, over
    /// any scheme (a checkout cloned over ssh often names its submodules over https), or from
    /// anywhere when the superproject is a local path (the operator's own checkout).
    pub fn same_source(self, parent: &gix_url::Url, sub: &gix_url::Url) -> bool {
        let host = |url: &gix_url::Url| url.host().map(str::to_ascii_lowercase);
        match self {
            Self::Hosted => same_origin(parent, sub),
            Self::Local => parent.host().is_none() || host(parent) == host(sub),
        }
    }

    /// [`Self::check_url`], then (hosted) resolves the host and checks every address it resolves
    /// to. Blocking (name resolution).
    pub fn check(self, url: &str) -> anyhow::Result<Checked> {
        let parsed = self.check_url(url)?;
        if self == Self::Local {
            return Ok(Checked {
                url: parsed,
                addresses: Vec::new(),
            });
        }
        let host = parsed.host().map(bare_host).unwrap_or_default().to_owned();
        let port = parsed.port_or_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| anyhow::anyhow!("cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect();
        check_addresses(&host, &addresses)?;
        Ok(Checked {
            url: parsed,
            addresses,
        })
    }
}

/// Refuses `host` if it resolved to nothing or to any address [`forbidden`] refuses.
pub fn check_addresses(host: &str, addresses: &[IpAddr]) -> anyhow::Result<()> {
    anyhow::ensure!(!addresses.is_empty(), "{host} resolves to no address");
    for address in addresses {
        if let Some(reason) = forbidden(*address) {
            anyhow::bail!("refusing {host}: it resolves to {address}, {reason}");
        }
    }
    Ok(())
}

/// Why a hosted fetch may not reach `address`, or `None` when it may (a public address).
/// IPv4-mapped and IPv4-compatible IPv6 addresses are judged as the IPv4 address they carry.
pub fn forbidden(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| embedded_v4(v6)) {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = v4.octets();
    if v4 == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the metadata server")
    } else if v4.is_loopback() {
        Some("a loopback address")
    } else if v4.is_private() {
        Some("a private address")
    } else if v4.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if v4.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
        Some("not a unicast address")
    } else {
        None
    }
}

fn forbidden_v6(v6: Ipv6Addr) -> Option<&'static str> {
    let first = v6.segments()[0];
    if v6.is_loopback() {
        Some("a loopback address")
    } else if v6.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if v6.is_multicast() {
        Some("not a unicast address")
    } else {
        None
    }
}

/// The IPv4 address of an IPv4-compatible (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = || Ipv4Addr::from((u128::from(v6) & 0xffff_ffff) as u32);
    let compatible = s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (compatible || nat64).then(v4)
}

/// Why a hosted fetch may not reach the host named `host` before resolving it: an address literal
/// [`forbidden`] refuses, or a name that is the machine itself or the metadata server.
pub fn forbidden_name(host: &str) -> Option<&'static str> {
    if let Ok(address) = host.parse::<IpAddr>() {
        return forbidden(address);
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "metadata.google.internal" || name == "metadata" {
        Some("the metadata server")
    } else if is_loopback_name(&name) {
        Some("a loopback address")
    } else {
        None
    }
}

/// `localhost`, `*.localhost`, or a loopback address literal.
fn is_loopback_name(host: &str) -> bool {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// A host without the brackets of an IPv6 literal.
fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

fn describe(scheme: &Scheme) -> &'static str {
    match scheme {
        Scheme::File => "local paths and file://",
        Scheme::Git => "git://",
        _ => "these",
    }
}

/// Whether `a` and `b` are on the same origin: scheme, host and port (the default one when unset).
pub fn same_origin(a: &gix_url::Url, b: &gix_url::Url) -> bool {
    a.scheme == b.scheme
        && a.host().map(str::to_ascii_lowercase) == b.host().map(str::to_ascii_lowercase)
        && a.port_or_default() == b.port_or_default()
}

/// A remote as it is stored: a URL without secrets (or, in local mode, an absolute path), and the
/// name shown for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// What is fetched: the URL as given, or a local repository's absolute path.
    pub url: String,
    /// The name shown: `owner/name` from the URL's last two segments, or the directory's name.
    pub name: String,
}

impl Remote {
    /// Checks `location` (a clone URL, or in local mode a local path) under `policy` and names it.
    pub fn parse(policy: RemotePolicy, location: &str) -> anyhow::Result<Self> {
        let path = Path::new(location);
        if policy == RemotePolicy::Local && path.is_dir() {
            return Self::local(path);
        }
        let url = policy.check_url(location)?;
        match url.scheme {
            Scheme::File => {
                let path = PathBuf::from(String::from_utf8_lossy(&url.path).into_owned());
                anyhow::ensure!(path.is_dir(), "no such directory: {}", path.display());
                Self::local(&path)
            }
            Scheme::Https | Scheme::Http | Scheme::Ssh | Scheme::Git => {
                // A secret in a query would be stored and shown in clear like user information.
                anyhow::ensure!(
                    !matches!(url.scheme, Scheme::Https | Scheme::Http)
                        || !location.contains(['?', '#']),
                    "the URL holds a query or fragment: a clone URL has neither (give a token separately)"
                );
                anyhow::ensure!(url.host().is_some(), "`{location}` names no host");
                let path = String::from_utf8_lossy(&url.path);
                let segments: Vec<&str> = path
                    .trim_matches('/')
                    .trim_end_matches(".git")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect();
                anyhow::ensure!(!segments.is_empty(), "`{location}` names no repository");
                let name = segments[segments.len().saturating_sub(2)..].join("/");
                Ok(Self {
                    url: location.to_owned(),
                    name,
                })
            }
            ref other => anyhow::bail!("`{other}` remotes are not supported"),
        }
    }

    /// Whether it is reached over ssh.
    pub fn is_ssh(&self) -> bool {
        gix_url::Url::from_bytes(self.url.as_str().into())
            .is_ok_and(|url| url.scheme == Scheme::Ssh)
    }

    /// Whether it is a directory on this machine (local mode only).
    pub fn is_local_path(&self) -> bool {
        Path::new(&self.url).is_absolute()
    }

    fn local(path: &Path) -> anyhow::Result<Self> {
        let path = path
            .canonicalize()
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".git").to_owned())
            .unwrap_or_else(|| "repository".into());
        Ok(Self {
            url: path.to_string_lossy().into_owned(),
            name,
        })
    }
}

#[cfg(test)]
mod tests;
