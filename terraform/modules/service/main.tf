# One function as a Cloud Run v2 service, with its own service account and what that account may
# read. Terraform owns the configuration; Cloud Build owns the image (`gcloud run services update
# --image`), so the image is ignored after creation and an apply never rolls a deploy back.

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = "run-${var.name}"
  display_name = "Dashboard ${var.name} (Cloud Run service)"
}

# The secrets the service reads, each granted to its account alone.
resource "google_secret_manager_secret_iam_member" "reads" {
  for_each  = toset([for entry in values(var.secret_env) : entry.secret])
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.this.email}"
}

resource "google_cloud_run_v2_service" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = { app = "dashboard", function = var.name }
  # Public functions (webhook, api) take traffic from anywhere and authenticate it themselves;
  # `invoker_iam_disabled` rather than an allUsers binding, which Domain Restricted Sharing blocks.
  # The others accept only Google's internal callers (Pub/Sub push, Cloud Scheduler) with a token
  # of an account granted run.invoker below.
  ingress              = var.public ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"
  invoker_iam_disabled = var.public

  template {
    service_account                  = google_service_account.this.email
    max_instance_request_concurrency = var.concurrency
    timeout                          = "${var.timeout_seconds}s"
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    labels                           = { app = "dashboard", function = var.name }

    scaling {
      min_instance_count = 0
      max_instance_count = var.max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network_id
        subnetwork = var.subnetwork_id
        tags       = var.network_tags
      }
    }

    containers {
      image = var.image
      args  = var.args

      ports {
        container_port = 8080
      }

      resources {
        limits            = { cpu = var.cpu, memory = var.memory }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret
              version = env.value.version
            }
          }
        }
      }

      # Ready once the database answers: Direct VPC egress can take a minute or more to connect a
      # new instance, so the probe may fail for up to two minutes before the instance is given up.
      startup_probe {
        http_get {
          path = "/readyz"
        }
        period_seconds    = 5
        timeout_seconds   = 3
        failure_threshold = 24
      }

      liveness_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 30
        timeout_seconds   = 3
        failure_threshold = 3
      }
    }
  }

  lifecycle {
    ignore_changes = [
      client,
      client_version,
      template[0].containers[0].image,
    ]
  }

  depends_on = [google_secret_manager_secret_iam_member.reads]
}

# Who may call a private service: the push subscription's and the scheduler's accounts.
resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = var.invokers
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${each.value}"
}
