//! The remote policy and the address classifier, on URLs and addresses directly (no traffic).

use std::net::IpAddr;

use super::{Remote, RemotePolicy, forbidden, forbidden_name, same_origin};

fn refused(policy: RemotePolicy, url: &str) -> String {
    format!("{:#}", policy.check_url(url).unwrap_err())
}

#[test]
fn every_private_loopback_link_local_cgnat_and_metadata_address_is_refused() {
    let cases = [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "the metadata server"),
        ("169.254.1.1", "a link-local address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("100.127.255.254", "a shared (CGNAT) address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("::1", "a loopback address"),
        ("fc00::1", "a private (unique local) address"),
        ("fd12:3456::1", "a private (unique local) address"),
        ("fe80::1", "a link-local address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:169.254.169.254", "the metadata server"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::10.0.0.1", "a private address"),
        ("64:ff9b::192.168.0.1", "a private address"),
        ("224.0.0.1", "not a unicast address"),
    ];
    for (address, reason) in cases {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(forbidden(ip), Some(reason), "{address}");
    }
    for public in [
        "140.82.112.3",
        "100.63.255.255",
        "100.128.0.1",
        "172.32.0.1",
        "2606:50c0:8000::153",
        "::ffff:140.82.112.3",
    ] {
        assert_eq!(forbidden(public.parse().unwrap()), None, "{public}");
    }
    assert_eq!(
        forbidden_name("metadata.google.internal."),
        Some("the metadata server")
    );
    assert_eq!(forbidden_name("LOCALHOST"), Some("a loopback address"));
    assert_eq!(forbidden_name("git.localhost"), Some("a loopback address"));
    assert_eq!(forbidden_name("github.com"), None);
}

#[test]
fn hosted_fetches_take_only_https_and_ssh_to_hosts_not_refused_by_name() {
    let hosted = RemotePolicy::Hosted;
    assert!(
        hosted
            .check_url("https://github.com/acme/widgets.git")
            .is_ok()
    );
    assert!(hosted.check_url("ssh://git@gitlab.com/acme/w.git").is_ok());
    assert!(hosted.check_url("git@gitlab.com:acme/w.git").is_ok());
    let local_only = "remotes are only allowed in local mode (dashboard up, scan, repo)";
    for url in [
        "/srv/git/widgets.git",
        "file:///srv/git/widgets.git",
        "git://example.com/widgets.git",
    ] {
        assert!(refused(hosted, url).contains(local_only), "{url}");
    }
    for policy in [hosted, RemotePolicy::Local] {
        assert_eq!(
            refused(policy, "ext::sh -c touch% /tmp/pwned"),
            "ext:: remotes run a command: never fetched"
        );
    }
    assert_eq!(
        refused(hosted, "http://example.com/a.git"),
        "plain http is only allowed to loopback; use https"
    );
    assert_eq!(
        refused(hosted, "http://127.0.0.1:8080/a.git"),
        "refusing 127.0.0.1: a loopback address"
    );
    assert_eq!(
        refused(hosted, "https://[::ffff:a9fe:a9fe]/a.git"),
        "refusing ::ffff:a9fe:a9fe: the metadata server"
    );
    assert_eq!(
        refused(
            hosted,
            "https://metadata.google.internal/computeMetadata/v1/"
        ),
        "refusing metadata.google.internal: the metadata server"
    );
    assert_eq!(
        refused(hosted, "ssh://git@10.0.0.7/repo.git"),
        "refusing 10.0.0.7: a private address"
    );
}

#[test]
fn a_url_with_user_information_is_refused_in_every_mode() {
    for policy in [RemotePolicy::Hosted, RemotePolicy::Local] {
        let token = refused(policy, "https://ghp_secret123@github.com/acme/w.git");
        assert!(token.contains("user information"), "{token}");
        assert!(!token.contains("ghp_secret123"), "{token}");
        let password = refused(policy, "https://me:hunter2@github.com/acme/w.git");
        assert!(password.contains("password"), "{password}");
        assert!(!password.contains("hunter2"), "{password}");
        let ssh = refused(policy, "ssh://git:hunter2@github.com/acme/w.git");
        assert!(!ssh.contains("hunter2"), "{ssh}");
    }
}

#[test]
fn local_mode_also_takes_paths_file_git_and_loopback_but_no_plain_http_beyond() {
    let local = RemotePolicy::Local;
    for url in [
        "/srv/git/widgets.git",
        "file:///srv/git/widgets.git",
        "git://example.com/widgets.git",
        "http://127.0.0.1:8080/a.git",
        "http://localhost/a.git",
        "http://[::1]:9/a.git",
        "https://127.0.0.1/a.git",
    ] {
        assert!(local.check(url).is_ok(), "{url}");
    }
    assert_eq!(
        refused(local, "http://example.com/a.git"),
        "plain http is only allowed to loopback; use https"
    );
}

#[test]
fn submodules_come_from_the_origin_on_cloud_run_and_from_the_host_locally() {
    let url = |u: &str| gix_url::Url::from_bytes(u.into()).unwrap();
    let parent = url("git@github.com:acme/app.git");
    let over_https = url("https://github.com/acme/lib.git");
    assert!(RemotePolicy::Local.same_source(&parent, &over_https));
    assert!(!RemotePolicy::Hosted.same_source(&parent, &over_https));
    assert!(RemotePolicy::Hosted.same_source(&parent, &url("ssh://git@github.com/acme/lib")));
    let elsewhere = url("https://gitlab.com/acme/lib.git");
    assert!(!RemotePolicy::Local.same_source(&parent, &elsewhere));
    assert!(!RemotePolicy::Hosted.same_source(&parent, &elsewhere));
    let path = url("/srv/git/app.git");
    assert!(RemotePolicy::Local.same_source(&path, &url("/srv/git/lib.git")));
    assert!(
        RemotePolicy::Local.same_source(&path, &elsewhere),
        "the operator's own checkout"
    );
    assert!(!RemotePolicy::Hosted.same_source(&path, &elsewhere));
}

#[test]
fn origins_compare_scheme_host_and_port() {
    let url = |u: &str| gix_url::Url::from_bytes(u.into()).unwrap();
    let github = url("https://github.com/acme/a.git");
    assert!(same_origin(&github, &url("https://GitHub.com/other/b")));
    assert!(same_origin(&github, &url("https://github.com:443/x")));
    assert!(!same_origin(&github, &url("https://github.com:8443/x")));
    assert!(!same_origin(&github, &url("ssh://git@github.com/x")));
    assert!(!same_origin(&github, &url("https://gitlab.com/acme/a.git")));
}

#[test]
fn a_remote_is_named_by_its_last_two_segments_and_checked_by_the_policy() {
    let github =
        Remote::parse(RemotePolicy::Hosted, "https://github.com/acme/widgets.git").unwrap();
    assert_eq!(github.name, "acme/widgets");
    assert!(!github.is_ssh() && !github.is_local_path());
    let scp = Remote::parse(RemotePolicy::Hosted, "git@gitlab.com:group/sub/tool.git").unwrap();
    assert_eq!(scp.name, "sub/tool");
    assert!(scp.is_ssh());
    let query = Remote::parse(
        RemotePolicy::Hosted,
        "https://git.example.com/a/b.git?private_token=glpat-1",
    )
    .unwrap_err();
    assert!(query.to_string().contains("query"), "{query}");
    assert!(!query.to_string().contains("glpat"), "{query}");
    let bare = Remote::parse(RemotePolicy::Hosted, "https://git.example.com/").unwrap_err();
    assert_eq!(
        bare.to_string(),
        "`https://git.example.com/` names no repository"
    );

    let dir = std::env::temp_dir();
    let path = dir.to_str().unwrap();
    let local = Remote::parse(RemotePolicy::Local, path).unwrap();
    assert!(local.is_local_path());
    assert_eq!(
        local.url,
        dir.canonicalize().unwrap().to_string_lossy(),
        "stored as its absolute path"
    );
    let refused = Remote::parse(RemotePolicy::Hosted, path).unwrap_err();
    assert!(
        refused.to_string().contains("only allowed in local mode"),
        "{refused}"
    );
    let missing = Remote::parse(RemotePolicy::Local, "/no/such/dir").unwrap_err();
    assert_eq!(missing.to_string(), "no such directory: /no/such/dir");
}
