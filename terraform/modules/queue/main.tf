# One job queue on Pub/Sub: the topic the functions publish `{job_id}` to, the push subscription
# that wakes the consumer's `POST /jobs/push` with an OIDC token, a retry policy, and a dead-letter
# topic with a pull subscription of its own (without one, dead letters are lost). Pub/Sub's service
# agent gets the two grants dead-lettering needs.

locals {
  pubsub_agent = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "jobs" {
  project = var.project_id
  name    = "${var.name}-jobs"
  labels  = { app = "dashboard" }
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.name}-jobs-dead-letter"
  labels  = { app = "dashboard" }
}

resource "google_pubsub_subscription" "push" {
  project                    = var.project_id
  name                       = "${var.name}-jobs-push"
  topic                      = google_pubsub_topic.jobs.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"
  labels                     = { app = "dashboard" }

  # An empty ttl never expires (omitting the block expires a quiet subscription after 31 days).
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${var.min_backoff_seconds}s"
    maximum_backoff = "${var.max_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # The wrapped envelope (messageId, attributes, deliveryAttempt, base64 data): what
  # shared::jobs::push reads.
  push_config {
    push_endpoint = var.push_endpoint
    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.audience
    }
  }
}

resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name}-jobs-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  labels                     = { app = "dashboard" }

  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub forwards undeliverable messages to the dead-letter topic and acks them on the source.
resource "google_pubsub_topic_iam_member" "agent_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "agent_acks_forwarded" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = var.publishers
  project  = var.project_id
  topic    = google_pubsub_topic.jobs.name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${each.value}"
}
