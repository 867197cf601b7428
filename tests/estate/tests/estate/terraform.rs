//! The Terraform estate's structural invariants: push subscriptions, Cloud Run services and their
//! invokers, Cloud SQL, service accounts, the alerts and the dashboard, the policy wiring.

use std::collections::BTreeSet;

use crate::hcl_model::{
    Found, attr, attr_at, attrs_named, block, block_text, blocks_named, load, module_calls,
    resources, text, top_level,
};

const FUNCTIONS: [&str; 4] = ["webhook", "api", "scanner", "linker"];
const PUBLIC: [&str; 2] = ["webhook", "api"];

#[test]
fn every_push_subscription_has_oidc_a_dead_letter_topic_with_a_subscription_and_the_agent_grants() {
    let files = load();
    let subscriptions = resources(&files, "google_pubsub_subscription");
    let push: Vec<&Found<'_>> = subscriptions
        .iter()
        .filter(|s| block(s.block.body(), &["push_config"]).is_some())
        .collect();
    assert!(!push.is_empty(), "no push subscription found");
    for sub in push {
        let body = sub.block.body();
        let at = sub.address();
        for key in ["service_account_email", "audience"] {
            assert!(
                attr_at(body, &["push_config", "oidc_token", key]).is_some(),
                "{at}: push_config.oidc_token.{key} missing"
            );
        }
        let dlq = attr_at(body, &["dead_letter_policy", "dead_letter_topic"])
            .unwrap_or_else(|| panic!("{at}: no dead_letter_policy.dead_letter_topic"));
        assert!(
            attr_at(body, &["dead_letter_policy", "max_delivery_attempts"]).is_some(),
            "{at}: max_delivery_attempts"
        );
        // The dead-letter topic has a subscription of its own, or dead letters are lost.
        assert!(
            subscriptions
                .iter()
                .any(|other| other.file.module() == sub.file.module()
                    && attr(other.block.body(), "topic").map(text).as_deref()
                        == Some(dlq.as_str())),
            "{at}: no subscription on its dead-letter topic {dlq}"
        );
        assert_eq!(
            attr_at(body, &["expiration_policy", "ttl"]).as_deref(),
            Some("\"\""),
            "{at}: expiration_policy {{ ttl = \"\" }} (never expires)"
        );
        assert!(
            block(body, &["retry_policy"]).is_some(),
            "{at}: retry_policy"
        );
        assert_eq!(
            attr(body, "message_retention_duration")
                .map(text)
                .as_deref(),
            Some("\"604800s\""),
            "{at}: 7-day retention"
        );
        // Pub/Sub's service agent publishes to the DLQ topic and acks on the source subscription.
        let topic_name = dlq.replace(".id", ".name");
        let subscription_name = format!("google_pubsub_subscription.{}.name", sub.name());
        let grants = |kind: &str, target_key: &str, target: &str, role: &str| {
            resources(&files, kind).iter().any(|g| {
                let b = g.block.body();
                g.file.module() == sub.file.module()
                    && attr(b, target_key).map(text).as_deref() == Some(target)
                    && attr(b, "role").map(text).as_deref() == Some(role)
                    && attr(b, "member").is_some_and(|m| text(m).contains("pubsub_agent"))
            })
        };
        assert!(
            grants(
                "google_pubsub_topic_iam_member",
                "topic",
                &topic_name,
                "\"roles/pubsub.publisher\""
            ),
            "{at}: the service agent may not publish to {topic_name}"
        );
        assert!(
            grants(
                "google_pubsub_subscription_iam_member",
                "subscription",
                &subscription_name,
                "\"roles/pubsub.subscriber\""
            ),
            "{at}: the service agent may not ack {subscription_name}"
        );
    }
}

#[test]
fn every_cloud_run_service_scales_from_zero_to_a_bounded_max_with_probes_and_its_own_account() {
    let files = load();
    let services = resources(&files, "google_cloud_run_v2_service");
    assert!(!services.is_empty());
    for service in services {
        let body = service.block.body();
        let at = service.address();
        assert_eq!(
            attr_at(body, &["template", "scaling", "min_instance_count"]).as_deref(),
            Some("0"),
            "{at}: min instances 0"
        );
        let max = attr_at(body, &["template", "scaling", "max_instance_count"])
            .unwrap_or_else(|| panic!("{at}: no max_instance_count"));
        let variable = max
            .strip_prefix("var.")
            .unwrap_or_else(|| panic!("{at}: max_instance_count = {max}"));
        assert!(
            variable_is_bounded(&files, service.file.module(), variable),
            "{at}: var.{variable} has no upper bound"
        );
        let account = attr_at(body, &["template", "service_account"]).unwrap_or_else(|| {
            panic!("{at}: no service_account (the Compute default would run it)")
        });
        assert!(
            account.starts_with("google_service_account."),
            "{at}: {account}"
        );
        assert_eq!(
            attr_at(
                body,
                &[
                    "template",
                    "containers",
                    "startup_probe",
                    "http_get",
                    "path"
                ]
            )
            .as_deref(),
            Some("\"/readyz\""),
            "{at}: startup probe"
        );
        assert_eq!(
            attr_at(
                body,
                &[
                    "template",
                    "containers",
                    "liveness_probe",
                    "http_get",
                    "path"
                ]
            )
            .as_deref(),
            Some("\"/healthz\""),
            "{at}: liveness probe"
        );
        // Ingress and the IAM bypass follow one switch, set per function below.
        assert_eq!(
            attr(body, "invoker_iam_disabled").map(text).as_deref(),
            Some("var.public"),
            "{at}"
        );
        assert_eq!(
            attr(body, "ingress").map(text).as_deref(),
            Some("var.public ? \"INGRESS_TRAFFIC_ALL\" : \"INGRESS_TRAFFIC_INTERNAL_ONLY\""),
            "{at}: ingress from anywhere only when public"
        );
        // Cloud Build owns the image.
        let ignored = attr_at(body, &["lifecycle", "ignore_changes"]).unwrap_or_default();
        assert!(
            ignored.contains("template[0].containers[0].image"),
            "{at}: ignore_changes {ignored}"
        );
    }
}

/// Whether `variable` of the module in `dir` has a validation with an upper bound.
fn variable_is_bounded(
    files: &[crate::hcl_model::TfFile],
    dir: &std::path::Path,
    variable: &str,
) -> bool {
    top_level(files, "variable", Some(variable))
        .iter()
        .filter(|v| v.file.module() == dir)
        .any(|v| {
            v.block.body().blocks().any(|b| {
                b.identifier() == "validation"
                    && attr(b.body(), "condition")
                        .is_some_and(|c| text(c).contains(&format!("var.{variable} <=")))
            })
        })
}

#[test]
fn only_webhook_and_api_are_public_and_nothing_is_granted_to_all_users() {
    let files = load();
    let calls = module_calls(&files, "service");
    let names: BTreeSet<&str> = calls.iter().map(Found::name).collect();
    assert_eq!(
        names,
        BTreeSet::from(FUNCTIONS),
        "one service module per function"
    );
    for call in &calls {
        let body = call.block.body();
        assert_eq!(
            attr(body, "name").map(text),
            Some(format!("\"{}\"", call.name())),
            "{}",
            call.address()
        );
        let public = attr(body, "public").map(text);
        let expected = PUBLIC.contains(&call.name()).to_string();
        assert_eq!(
            public.as_deref(),
            Some(expected.as_str()),
            "{}: public",
            call.address()
        );
        if !PUBLIC.contains(&call.name()) {
            assert!(
                attr(body, "invokers").is_some(),
                "{}: a private service needs its invokers",
                call.address()
            );
        }
    }
    for file in &files {
        let mut members = Vec::new();
        attrs_named(&file.body, "member", &mut members);
        attrs_named(&file.body, "members", &mut members);
        for member in members {
            let member = text(member);
            assert!(
                !member.contains("allUsers") && !member.contains("allAuthenticatedUsers"),
                "{}: {member}",
                file.path.display()
            );
        }
    }
}

#[test]
fn cloud_sql_has_pitr_no_public_ip_deletion_protection_and_an_explicit_edition() {
    let files = load();
    let instances = resources(&files, "google_sql_database_instance");
    assert_eq!(instances.len(), 1);
    for instance in instances {
        let body = instance.block.body();
        let at = instance.address();
        assert_eq!(
            attr_at(body, &["settings", "edition"]).as_deref(),
            Some("\"ENTERPRISE\""),
            "{at}: edition set explicitly"
        );
        for (path, expected) in [
            (&["settings", "backup_configuration", "enabled"][..], "true"),
            (
                &[
                    "settings",
                    "backup_configuration",
                    "point_in_time_recovery_enabled",
                ],
                "true",
            ),
            (&["settings", "ip_configuration", "ipv4_enabled"], "false"),
            (
                &["settings", "ip_configuration", "ssl_mode"],
                "\"ENCRYPTED_ONLY\"",
            ),
        ] {
            assert_eq!(
                attr_at(body, path).as_deref(),
                Some(expected),
                "{at}: {path:?}"
            );
        }
        assert!(
            attr_at(body, &["settings", "ip_configuration", "private_network"]).is_some(),
            "{at}: private IP"
        );
        for path in [
            &["deletion_protection"][..],
            &["settings", "deletion_protection_enabled"],
        ] {
            let value = attr_at(body, path).unwrap_or_else(|| panic!("{at}: {path:?} missing"));
            assert_eq!(value, "var.deletion_protection", "{at}: {path:?}");
        }
        assert!(
            attr(body, "database_version").is_some_and(|v| text(v).contains("POSTGRES_16")),
            "{at}: PostgreSQL 16"
        );
    }
    // The switch defaults to on everywhere and no environment turns it off.
    for variable in top_level(&files, "variable", Some("deletion_protection")) {
        assert_eq!(
            attr(variable.block.body(), "default").map(text).as_deref(),
            Some("true"),
            "{}",
            variable.address()
        );
    }
    for env in ["staging", "prod"] {
        let tfvars = hcl::parse(&crate::read(&format!(
            "terraform/environments/{env}/terraform.tfvars"
        )))
        .unwrap();
        if let Some(value) = attr(&tfvars, "deletion_protection") {
            assert_eq!(text(value), "true", "{env}");
        }
        // High availability in prod.
        if env == "prod" {
            let Some(hcl::Expression::Object(database)) = attr(&tfvars, "database") else {
                panic!("{env}: database settings");
            };
            let availability = database
                .iter()
                .find(|(key, _)| key.to_string() == "availability_type")
                .map(|(_, value)| text(value));
            assert_eq!(availability.as_deref(), Some("\"REGIONAL\""), "{env}: HA");
        }
    }
}

#[test]
fn every_identity_is_one_of_ours_never_a_default_service_account() {
    let files = load();
    // Cloud Run services and jobs, and build triggers, name their account explicitly (leaving it
    // out means the Compute default service account).
    for (kind, path) in [
        (
            "google_cloud_run_v2_service",
            &["template", "service_account"][..],
        ),
        (
            "google_cloud_run_v2_job",
            &["template", "template", "service_account"],
        ),
        ("google_cloudbuild_trigger", &["service_account"]),
    ] {
        let found = resources(&files, kind);
        assert!(!found.is_empty(), "{kind}");
        for resource in found {
            let account = attr_at(resource.block.body(), path)
                .unwrap_or_else(|| panic!("{}: no {path:?}", resource.address()));
            assert!(
                account.starts_with("google_service_account."),
                "{}: {account}",
                resource.address()
            );
        }
    }
    // Every account reference anywhere is a reference to one we create, never a literal.
    for file in &files {
        for key in [
            "service_account",
            "service_account_email",
            "service_account_id",
        ] {
            let mut found = Vec::new();
            attrs_named(&file.body, key, &mut found);
            for expr in found {
                let value = text(expr);
                assert!(
                    !value.contains("compute@developer.gserviceaccount.com")
                        && !value.contains("@appspot.gserviceaccount.com")
                        && !value.contains("@cloudbuild.gserviceaccount.com"),
                    "{}: {key} = {value}",
                    file.path.display()
                );
                assert!(
                    !matches!(expr, hcl::Expression::String(_)),
                    "{}: {key} = {value} is a literal, not one of our accounts",
                    file.path.display()
                );
            }
        }
    }
    // What the modules receive as an account, alone or among grantees, is one we create.
    let ours = |value: &str| {
        value.starts_with("google_service_account.")
            || (value.starts_with("module.") && value.ends_with(".service_account_email"))
    };
    for call in top_level(&files, "module", None) {
        for a in call.block.body().attributes() {
            let key = a.key();
            if key.ends_with("service_account_email") {
                assert!(ours(&text(a.expr())), "{}: {key}", call.address());
            }
            if [
                "runtime_service_accounts",
                "publishers",
                "invokers",
                "users",
                "writers",
            ]
            .contains(&key)
            {
                // Keyed by role (for_each needs keys known before the accounts exist).
                let hcl::Expression::Object(grantees) = a.expr() else {
                    panic!("{}: {key} is a map of accounts", call.address());
                };
                for account in grantees.values() {
                    assert!(
                        ours(&text(account)),
                        "{}: {key} has {account}",
                        call.address()
                    );
                }
            }
        }
    }
    // Scheduler calls carry a token of one of our accounts.
    for job in resources(&files, "google_cloud_scheduler_job") {
        let mut tokens = Vec::new();
        blocks_named(job.block.body(), "oauth_token", &mut tokens);
        blocks_named(job.block.body(), "oidc_token", &mut tokens);
        assert_eq!(tokens.len(), 1, "{}", job.address());
        assert!(attr(tokens[0], "service_account_email").is_some());
    }
}

#[test]
fn each_required_alert_exists_and_notifies_the_environments_channels() {
    let files = load();
    let alerts = resources(&files, "google_monitoring_alert_policy");
    let texts: Vec<String> = alerts.iter().map(|a| block_text(a.block)).collect();
    for alert in &alerts {
        assert_eq!(
            attr(alert.block.body(), "notification_channels")
                .map(text)
                .as_deref(),
            Some("var.notification_channels"),
            "{}",
            alert.address()
        );
    }
    let has = |what: &str, needles: &[&str]| {
        assert!(
            texts
                .iter()
                .any(|t| needles.iter().all(|needle| t.contains(needle))),
            "no alert for {what} (an alert policy with all of {needles:?})"
        );
    };
    has(
        "the 5xx ratio per service",
        &[
            "for_each",
            "response_code_class=\"5xx\"",
            "denominator_filter",
            "threshold_value = 0.01",
            "\"300s\"",
        ],
    );
    has(
        "p95 latency",
        &[
            "request_latencies",
            "REDUCE_PERCENTILE_95",
            "threshold_value = 500",
        ],
    );
    has(
        "webhook signature failures",
        &["google_logging_metric.webhook_signature_failures"],
    );
    has(
        "dead-lettered messages",
        &[
            "dead_letter_subscriptions",
            "num_undelivered_messages",
            "threshold_value = 0",
        ],
    );
    has(
        "the oldest unacked message",
        &["oldest_unacked_message_age", "threshold_value = 600"],
    );
    has("Cloud SQL", &["${local.database}", "local.database_alerts"]);
    has("stuck jobs", &["google_logging_metric.jobs_stuck"]);
    has(
        "a failed daily resync",
        &[
            "completed_execution_count",
            "result=\"failed\"",
            "var.resync_job",
        ],
    );
    // The database alerts: CPU over 80%, connections over 80% of max, disk over 90%.
    let monitoring = crate::read("terraform/modules/monitoring/alerts.tf");
    for needle in [
        "cpu/utilization",
        "threshold = 0.8",
        "postgresql/num_backends",
        "floor(var.database_max_connections * 0.8)",
        "disk/utilization",
        "threshold = 0.9",
    ] {
        assert!(monitoring.contains(needle), "database alerts: {needle}");
    }
    // The log-based metrics the alerts read exist.
    let metrics: BTreeSet<&str> = resources(&files, "google_logging_metric")
        .iter()
        .map(Found::name)
        .collect();
    for metric in ["webhook_signature_failures", "jobs_stuck", "jobs_dead"] {
        assert!(metrics.contains(metric), "log-based metric {metric}");
    }
}

#[test]
fn the_dashboard_shows_requests_latency_errors_instances_queues_and_the_database() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&crate::read("terraform/modules/monitoring/dashboard.json")).unwrap();
    let mut filters = Vec::new();
    collect_filters(&dashboard, &mut filters);
    // Monitoring reads one metric type per query: `metric.type="…"`, never a prefix or a list.
    for (filter, _) in &filters {
        assert!(
            filter.matches("metric.type=\"").count() == 1 && !filter.contains("starts_with"),
            "a chart's filter names one metric type: {filter}"
        );
    }
    let by_service = |metric: &str, extra: &str| {
        filters.iter().any(|(filter, group_by)| {
            filter.contains(metric)
                && filter.contains(extra)
                && group_by.contains("resource.label.service_name")
        })
    };
    for (metric, extra) in [
        ("run.googleapis.com/request_count", ""),
        ("run.googleapis.com/request_latencies", ""),
        ("run.googleapis.com/request_count", "5xx"),
        ("run.googleapis.com/container/instance_count", ""),
    ] {
        assert!(
            by_service(metric, extra),
            "a chart of {metric} {extra} per service"
        );
    }
    for metric in [
        "pubsub.googleapis.com/subscription/num_undelivered_messages",
        "cloudsql.googleapis.com/database/cpu/utilization",
        "cloudsql.googleapis.com/database/postgresql/num_backends",
    ] {
        assert!(
            filters.iter().any(|(f, _)| f.contains(metric)),
            "a chart of {metric}"
        );
    }
}

/// Every `timeSeriesFilter` of a dashboard: its filter and its group-by fields.
fn collect_filters(value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(filter) = map.get("timeSeriesFilter") {
                out.push((
                    filter["filter"].as_str().unwrap_or_default().to_owned(),
                    filter["aggregation"]["groupByFields"].to_string(),
                ));
            }
            map.values().for_each(|v| collect_filters(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_filters(v, out)),
        _ => {}
    }
}

#[test]
fn every_environment_runs_the_estate_and_the_estate_runs_the_policy() {
    let files = load();
    let estates = module_calls(&files, "estate");
    let envs: BTreeSet<String> = estates
        .iter()
        .map(|m| m.file.module().display().to_string())
        .collect();
    assert_eq!(
        envs,
        BTreeSet::from([
            "environments/prod".to_owned(),
            "environments/staging".to_owned()
        ])
    );
    let policy = module_calls(&files, "policy");
    assert_eq!(policy.len(), 1);
    assert_eq!(
        policy[0].file.module(),
        std::path::Path::new("modules/estate")
    );
    let budget = resources(&files, "terraform_data")
        .into_iter()
        .find(|r| r.name() == "connection_budget")
        .expect("terraform_data.connection_budget");
    assert!(block(budget.block.body(), &["lifecycle", "precondition"]).is_some());
    for env in ["staging", "prod"] {
        let backend = crate::read(&format!("terraform/environments/{env}/backend.tf"));
        assert!(backend.contains("backend \"gcs\""), "{env}: state in GCS");
    }
    // Pins: the google provider >= 6.8 (invoker_iam_disabled), < 8 and Terraform >= 1.6 wherever
    // they are declared.
    for file in &files {
        if let Some(terraform) = block(&file.body, &["terraform"]) {
            if let Some(version) = attr(terraform, "required_version") {
                assert_eq!(text(version), "\">= 1.6\"", "{}", file.path.display());
            }
            if let Some(google) = attr_at(terraform, &["required_providers", "google"]) {
                assert!(
                    google.contains("\">= 6.8, < 8\""),
                    "{}: {google}",
                    file.path.display()
                );
            }
        }
    }
}
