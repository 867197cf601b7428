//! No secret value in the estate: none in a tfvars file or a variable's default, no resource that
//! would put one into Terraform's state.

use crate::hcl_model::{attr, load, resources, text, top_level};
use hcl::Expression;

/// Why `value` looks like a secret, if it does.
fn secret_like(value: &str) -> Option<&'static str> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if value.contains("-----BEGIN") {
        return Some("a PEM block");
    }
    if let Some((scheme, rest)) = value.split_once("://")
        && !scheme.is_empty()
        && rest
            .split(['/', '?'])
            .next()
            .is_some_and(|authority| authority.contains('@') && authority.contains(':'))
    {
        return Some("a URL with credentials");
    }
    if [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "AKIA",
        "xox",
        "sk_live_",
    ]
    .iter()
    .any(|prefix| value.starts_with(prefix))
    {
        return Some("a token");
    }
    let base64ish = compact
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c));
    let mixed = compact.chars().any(|c| c.is_ascii_digit())
        && compact.chars().any(|c| c.is_ascii_lowercase())
        && compact.chars().any(|c| c.is_ascii_uppercase());
    let hex = compact.len() >= 32 && compact.chars().all(|c| c.is_ascii_hexdigit());
    if (compact.len() >= 32 && base64ish && mixed) || hex {
        return Some("a key-like string");
    }
    None
}

/// Every string literal in an expression, with the object key it sits under.
fn strings(expr: &Expression, key: &str, out: &mut Vec<(String, String)>) {
    match expr {
        Expression::String(s) => out.push((key.to_owned(), s.clone())),
        Expression::Array(items) => items.iter().for_each(|e| strings(e, key, out)),
        Expression::Object(object) => {
            for (k, v) in object {
                strings(v, &k.to_string(), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_secret_detector_knows_a_secret_when_it_sees_one() {
    for secret in [
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----",
        "postgres://dashboard_app:hunter2@10.0.0.3:5432/dashboard",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        "q8Xc3zN0v5Rk1Lm2Pp4Tt6Yy7Uu9Ii0Oo1Aa2Ss3Dd=",
        "0123456789abcdef0123456789abcdef",
    ] {
        assert!(secret_like(secret).is_some(), "{secret}");
    }
    for fine in [
        "https://dashboard.example.com",
        "projects/dashboard-prod/locations/europe-west1/connections/github/repositories/dashboard",
        "Dashboard <no-reply@dashboard.example.com>",
        "db-custom-2-7680",
        "postgres://PRIVATE_IP:5432/dashboard",
    ] {
        assert_eq!(secret_like(fine), None, "{fine}");
    }
}

#[test]
fn no_tfvars_file_or_variable_default_holds_a_secret() {
    let base = crate::root().join("terraform/environments");
    let mut checked = 0;
    for env in ["staging", "prod"] {
        let path = base.join(env).join("terraform.tfvars");
        let body = hcl::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut found = Vec::new();
        for attribute in body.attributes() {
            strings(attribute.expr(), attribute.key(), &mut found);
            let key = attribute.key().to_ascii_lowercase();
            assert!(
                !["password", "private_key", "token", "secret_value"]
                    .iter()
                    .any(|word| key.contains(word)),
                "{env}: a variable named {key} does not belong in tfvars"
            );
        }
        for (key, value) in &found {
            assert!(
                secret_like(value).is_none(),
                "{env}/terraform.tfvars: {key} = {value:?} looks like {}",
                secret_like(value).unwrap()
            );
            checked += 1;
        }
        // secret_versions pins version numbers, never values.
        if let Some(Expression::Object(versions)) = attr(&body, "secret_versions") {
            for (id, version) in versions {
                let version = text(version);
                assert!(
                    version
                        .trim_matches('"')
                        .chars()
                        .all(|c| c.is_ascii_digit())
                        || version == "\"latest\"",
                    "{env}: secret_versions.{id} = {version}"
                );
            }
        }
    }
    assert!(checked > 10, "the tfvars hold values ({checked})");

    let files = load();
    for variable in top_level(&files, "variable", None) {
        if let Some(default) = attr(variable.block.body(), "default") {
            let mut found = Vec::new();
            strings(default, variable.name(), &mut found);
            for (key, value) in found {
                assert!(
                    secret_like(&value).is_none(),
                    "{}: default {key} = {value:?}",
                    variable.address()
                );
            }
        }
    }
}

#[test]
fn no_resource_puts_a_secret_into_terraform_state() {
    let files = load();
    // Secret values are added by an operator, never as a Terraform resource.
    assert!(resources(&files, "google_secret_manager_secret_version").is_empty());
    for user in resources(&files, "google_sql_user") {
        assert!(
            attr(user.block.body(), "password").is_none(),
            "{}",
            user.address()
        );
    }
    assert!(resources(&files, "random_password").is_empty());
    assert!(
        !resources(&files, "google_secret_manager_secret").is_empty(),
        "the secrets exist, empty"
    );
}
