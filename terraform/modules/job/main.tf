# One command as a Cloud Run job, with its own service account, and optionally a Cloud Scheduler
# trigger that starts an execution through the Cloud Run Admin API. The image is Cloud Build's
# (ignored after creation), like the services'.

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = "run-${var.name}"
  display_name = "Dashboard ${var.name} (Cloud Run job)"
}

resource "google_secret_manager_secret_iam_member" "reads" {
  for_each  = toset([for entry in values(var.secret_env) : entry.secret])
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.this.email}"
}

resource "google_cloud_run_v2_job" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = { app = "dashboard", job = var.name }

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.this.email
      max_retries     = var.max_retries
      timeout         = "${var.timeout_seconds}s"

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

        resources {
          limits = { cpu = var.cpu, memory = var.memory }
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
      }
    }
  }

  lifecycle {
    ignore_changes = [
      client,
      client_version,
      template[0].template[0].containers[0].image,
    ]
  }

  depends_on = [google_secret_manager_secret_iam_member.reads]
}

# The scheduler's account may start executions of this job (run.jobs.run is in run.invoker).
resource "google_cloud_run_v2_job_iam_member" "scheduler" {
  count    = var.schedule == null ? 0 : 1
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.scheduler_service_account_email}"
}

resource "google_cloud_scheduler_job" "this" {
  count            = var.schedule == null ? 0 : 1
  project          = var.project_id
  region           = var.region
  name             = var.name
  description      = "Starts the ${var.name} Cloud Run job."
  schedule         = var.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  # Retries the start request; a failed execution is retried by the job's own max_retries and
  # alerted on (modules/monitoring).
  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.this.name}:run"
    oauth_token {
      service_account_email = var.scheduler_service_account_email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler]
}
