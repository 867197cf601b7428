//! `cloudbuild.yaml` against the rest: the images it builds are the Dockerfile's targets, what it
//! deploys are Terraform's services and jobs, its tests are `scripts/test` against PostgreSQL on the
//! `cloudbuild` network, and the trigger's substitutions are the ones it declares.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{
    hcl_model::{attr, block, load, module_calls, resources, text},
    words,
};

fn pipeline() -> Value {
    serde_saphyr::from_str(&crate::read("cloudbuild.yaml")).expect("cloudbuild.yaml parses")
}

fn step<'a>(pipeline: &'a Value, id: &str) -> &'a Value {
    pipeline["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// A step's `NAME=value` environment entry.
fn env<'a>(step: &'a Value, name: &str) -> &'a str {
    step["env"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no env", step["id"]))
        .iter()
        .filter_map(Value::as_str)
        .find_map(|entry| entry.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{}: no {name}", step["id"]))
}

#[test]
fn every_image_built_is_a_dockerfile_target() {
    let pipeline = pipeline();
    let images = step(&pipeline, "images");
    let built = words(env(images, "TARGETS"));
    assert_eq!(built, crate::dockerfile::targets());
    let script = images["script"].as_str().unwrap();
    for needle in [
        "--target \"$target\"",
        "--push",
        "--cache-from \"type=registry",
        "--cache-to \"type=registry",
        "mode=max",
    ] {
        assert!(script.contains(needle), "images: {needle}");
    }
    assert!(!crate::read("cloudbuild.yaml").contains("kaniko"));
}

#[test]
fn what_is_deployed_is_what_terraform_declares() {
    let files = load();
    let services: BTreeSet<String> = module_calls(&files, "service")
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let jobs: BTreeSet<String> = module_calls(&files, "job")
        .iter()
        .map(|m| {
            attr(m.block.body(), "name")
                .map(text)
                .unwrap()
                .trim_matches('"')
                .to_owned()
        })
        .collect();
    let pipeline = pipeline();
    let deploy = step(&pipeline, "deploy");
    assert_eq!(words(env(deploy, "SERVICES")), services);
    let targets = crate::dockerfile::targets();
    let mut deployed_jobs = BTreeSet::from(["migrate".to_owned()]);
    for entry in words(env(deploy, "JOBS")) {
        let (job, image) = entry.split_once(':').unwrap();
        assert!(targets.contains(image), "{job} runs image {image}");
        deployed_jobs.insert(job.to_owned());
    }
    assert_eq!(
        deployed_jobs, jobs,
        "every Terraform job gets the new image"
    );
    let migrate = step(&pipeline, "migrate")["script"].as_str().unwrap();
    assert!(migrate.contains("gcloud run jobs update migrate"));
    assert!(migrate.contains("gcloud run jobs execute migrate") && migrate.contains("--wait"));
    // The smoke test covers every service: the public ones over HTTPS, the others through Cloud Run.
    let smoke = step(&pipeline, "smoke");
    let checked: BTreeSet<String> = words(env(smoke, "PUBLIC_SERVICES"))
        .union(&words(env(smoke, "INTERNAL_SERVICES")))
        .cloned()
        .collect();
    assert_eq!(checked, services);
    let script = smoke["script"].as_str().unwrap();
    for needle in [
        "/readyz",
        "/webhooks/github",
        "x-github-event: ping",
        "x-hub-signature-256",
        "202",
    ] {
        assert!(script.contains(needle), "smoke: {needle}");
    }
}

#[test]
fn the_tests_run_scripts_test_against_postgres_on_the_cloudbuild_network() {
    let pipeline = pipeline();
    let postgres = step(&pipeline, "postgres");
    let args: Vec<&str> = postgres["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&"--network=cloudbuild"), "{args:?}");
    let name = args.iter().find_map(|a| a.strip_prefix("--name=")).unwrap();
    // The tests log in as the migrations' runtime role too, which has no password: the container
    // trusts its network, or the test step gives that role's password.
    let trusted = args.contains(&"POSTGRES_HOST_AUTH_METHOD=trust");
    let test = step(&pipeline, "test");
    assert!(
        test["script"]
            .as_str()
            .unwrap()
            .lines()
            .any(|l| l.trim() == "scripts/test"),
        "the test step runs scripts/test"
    );
    assert!(
        env(test, "DATABASE_URL").contains(&format!("@{name}:5432/")),
        "DATABASE_URL points at the {name} container"
    );
    let app_password = test["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .any(|entry| entry.starts_with("DATABASE_APP_PASSWORD="));
    assert!(
        trusted || app_password,
        "the runtime role cannot log in to the {name} container: {args:?}"
    );
    // Images wait for the tests, the deploy for the migration.
    assert_eq!(step(&pipeline, "images")["waitFor"][0], "test");
    assert_eq!(step(&pipeline, "deploy")["waitFor"][0], "migrate");
}

#[test]
fn the_triggers_run_this_file_with_substitutions_it_declares() {
    let files = load();
    let declared: BTreeSet<String> = pipeline()["substitutions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let triggers = resources(&files, "google_cloudbuild_trigger");
    assert_eq!(triggers.len(), 1);
    let body = triggers[0].block.body();
    assert_eq!(
        attr(body, "filename").map(text).as_deref(),
        Some("\"cloudbuild.yaml\"")
    );
    let Some(hcl::Expression::Object(substitutions)) = attr(body, "substitutions") else {
        panic!("the trigger sets substitutions");
    };
    for key in substitutions.keys() {
        assert!(
            declared.contains(&key.to_string()),
            "{key} is not declared in cloudbuild.yaml"
        );
    }
    // Prod: a v* tag, behind an approval; staging: main.
    assert!(block(body, &["approval_config"]).is_some());
    let estate = crate::read("terraform/modules/estate/delivery.tf");
    assert!(estate.contains("tag_pattern       = var.environment == \"prod\" ? \"^v.*$\" : null"));
    assert!(estate.contains("approval_required = var.environment == \"prod\""));
}
