//! The scanner's HTTP client under the remote policy: its resolver and its redirects (the policy
//! itself is tested in `dashboard_shared::remote`).

#[tokio::test]
async fn the_http_resolver_refuses_names_that_resolve_to_refused_addresses() {
    use reqwest::dns::Resolve as _;
    let resolve = |name: &str| super::GuardedResolver.resolve(name.parse().unwrap());
    let by_name = resolve("localhost").await.err().unwrap().to_string();
    assert_eq!(by_name, "refusing localhost: a loopback address");
    // Resolved, not parsed: `127.1` is 127.0.0.1 to the system's resolver.
    let resolved = resolve("127.1").await.err().unwrap().to_string();
    assert_eq!(
        resolved,
        "refusing 127.1: it resolves to 127.0.0.1, a loopback address"
    );
}

#[test]
fn the_hosted_http_client_resolves_through_the_policy_and_follows_no_redirect() {
    use gix::protocol::transport::client::blocking_io::http;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = super::hosted_http(http::Options::default());
    assert_eq!(
        options.follow_redirects,
        http::options::FollowRedirects::None
    );
    // The client gix builds for the fetch: the transport's own builder through our callback.
    let backend = options.backend.unwrap();
    let mut backend = backend.lock().unwrap();
    let reqwest_options = backend.downcast_mut::<http::reqwest::Options>().unwrap();
    let configure = reqwest_options.configure_client.as_mut().unwrap();
    let client = configure(reqwest::blocking::ClientBuilder::new())
        .unwrap()
        .build()
        .unwrap();
    let error = client
        .get(format!("http://localhost:{port}/info/refs"))
        .send()
        .unwrap_err();
    assert!(
        format!("{error:?}").contains("refusing localhost: a loopback address"),
        "{error:?}"
    );
    assert!(listener.accept().is_err(), "nothing connected");
}
