# Alert policies. Each names its runbook section; notification channels are the environment's.

locals {
  run_revision = "resource.type=\"cloud_run_revision\""
  runbook      = "https://github.com/${var.source_repository}/blob/main/docs/runbook.md"
  latency_services = {
    for name in ["webhook", "api"] : name => name if contains(var.services, name)
  }
}

resource "google_monitoring_alert_policy" "error_ratio" {
  for_each              = toset(var.services)
  project               = var.project_id
  display_name          = "${each.value}: 5xx above 1% for 5 minutes"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "${each.value} 5xx ratio > 1%"
    condition_threshold {
      filter             = "${local.run_revision} AND resource.label.service_name=\"${each.value}\" AND metric.type=\"run.googleapis.com/request_count\" AND metric.label.response_code_class=\"5xx\""
      denominator_filter = "${local.run_revision} AND resource.label.service_name=\"${each.value}\" AND metric.type=\"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = 0.01
      duration           = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    content   = "More than 1% of ${each.value}'s answers were 5xx for 5 minutes. Runbook: ${local.runbook}#a-service-answers-5xx"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "latency" {
  for_each              = local.latency_services
  project               = var.project_id
  display_name          = "${each.key}: p95 latency above 500 ms"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "${each.key} p95 latency > 500 ms"
    condition_threshold {
      filter          = "${local.run_revision} AND resource.label.service_name=\"${each.key}\" AND metric.type=\"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = 500
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    content   = "${each.key}'s 95th percentile latency stayed above 500 ms for 5 minutes. Runbook: ${local.runbook}#slow-answers"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "webhook_signature_failures" {
  project               = var.project_id
  display_name          = "webhook: signature failures above ${var.signature_failures_per_minute}/min"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "rejected deliveries per minute"
    condition_threshold {
      filter          = "${local.run_revision} AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.webhook_signature_failures.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.signature_failures_per_minute / 60
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content   = "The webhook rejected more than ${var.signature_failures_per_minute} deliveries a minute for 5 minutes: a rotated secret not yet deployed, or someone probing. Runbook: ${local.runbook}#webhook-failures-and-redelivery"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  for_each              = toset(var.dead_letter_subscriptions)
  project               = var.project_id
  display_name          = "${each.value}: dead-lettered messages"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "${each.value} holds messages"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${each.value}\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "Messages were dead-lettered into ${each.value}. Runbook: ${local.runbook}#dead-lettered-messages"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  for_each              = toset(var.push_subscriptions)
  project               = var.project_id
  display_name          = "${each.value}: oldest unacked message older than 10 minutes"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "${each.value} oldest unacked age > 600 s"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${each.value}\" AND metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = 600
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "A message of ${each.value} has waited more than 10 minutes: the consumer fails or cannot keep up. Runbook: ${local.runbook}#stuck-or-dead-jobs"
    mime_type = "text/markdown"
  }
}

locals {
  database = "resource.type=\"cloudsql_database\" AND resource.label.database_id=\"${var.project_id}:${var.database_instance}\""
  database_alerts = {
    cpu = {
      title     = "Cloud SQL CPU above 80%"
      metric    = "cloudsql.googleapis.com/database/cpu/utilization"
      threshold = 0.8
      reducer   = "REDUCE_MAX"
    }
    connections = {
      title     = "Cloud SQL connections above 80% of max_connections"
      metric    = "cloudsql.googleapis.com/database/postgresql/num_backends"
      threshold = floor(var.database_max_connections * 0.8)
      reducer   = "REDUCE_SUM"
    }
    disk = {
      title     = "Cloud SQL disk above 90%"
      metric    = "cloudsql.googleapis.com/database/disk/utilization"
      threshold = 0.9
      reducer   = "REDUCE_MAX"
    }
  }
}

resource "google_monitoring_alert_policy" "database" {
  for_each              = local.database_alerts
  project               = var.project_id
  display_name          = each.value.title
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = each.value.title
    condition_threshold {
      filter          = "${local.database} AND metric.type=\"${each.value.metric}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MEAN"
        cross_series_reducer = each.value.reducer
      }
    }
  }

  documentation {
    content   = "${each.value.title} for 5 minutes. Runbook: ${local.runbook}#the-database"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "jobs_stuck" {
  project               = var.project_id
  display_name          = "jobs stuck or dead"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "sweeps re-publishing stuck jobs"
    condition_threshold {
      filter          = "${local.run_revision} AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.jobs_stuck.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "jobs dead after their last attempt"
    condition_threshold {
      filter          = "${local.run_revision} AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.jobs_dead.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content   = "Jobs stayed queued for more than 10 minutes (the sweeper re-published them) or failed their last attempt. Runbook: ${local.runbook}#stuck-or-dead-jobs"
    mime_type = "text/markdown"
  }
}

# The daily resync is a Cloud Run job: an execution that ends failed (after its retries).
resource "google_monitoring_alert_policy" "resync_failed" {
  project               = var.project_id
  display_name          = "daily resync failed"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "resync executions that failed"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND resource.label.job_name=\"${var.resync_job}\" AND metric.type=\"run.googleapis.com/job/completed_execution_count\" AND metric.label.result=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content   = "The daily resync (Cloud Run job ${var.resync_job}) failed. Runbook: ${local.runbook}#the-daily-resync-failed"
    mime_type = "text/markdown"
  }
}

# One dashboard: the four services' requests, latency, errors and instances, the queues, the
# database. Its JSON is in this folder, edited in the console and exported back.
resource "google_monitoring_dashboard" "dashboard" {
  project        = var.project_id
  dashboard_json = file("${path.module}/dashboard.json")
}
