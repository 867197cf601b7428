# Log-based metrics over what the functions log (tracing-stackdriver writes each event's message as
# jsonPayload.message and its fields camel-cased: `jobs.republished` becomes jobsRepublished).

# Deliveries refused by the webhook: a bad signature, or a hook id nobody created.
resource "google_logging_metric" "webhook_signature_failures" {
  project     = var.project_id
  name        = "webhook-signature-failures"
  description = "Webhook deliveries rejected for their signature or an unknown hook (401)."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    resource.labels.service_name="webhook"
    jsonPayload.message=("webhook signature rejected" OR "delivery from an unknown hook")
  EOT
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

# A sweep (linker `POST /jobs/sweep`, every 5 minutes) that found jobs queued for more than 10
# minutes: their messages were lost or nobody consumed them. Stuck jobs.
resource "google_logging_metric" "jobs_stuck" {
  project     = var.project_id
  name        = "jobs-stuck"
  description = "Sweeps that re-published jobs queued for more than 10 minutes."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    resource.labels.service_name="linker"
    jsonPayload.message="sweep finished"
    jsonPayload.jobsRepublished>0
  EOT
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

# A job that failed its last attempt (the jobs row is dead; replay it through the API).
resource "google_logging_metric" "jobs_dead" {
  project     = var.project_id
  name        = "jobs-dead"
  description = "Jobs marked dead after their last attempt."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    jsonPayload.message="job is dead after its last attempt"
  EOT
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}
