output "topic" {
  description = "The topic's full name (projects/P/topics/T), as the functions are configured with it."
  value       = google_pubsub_topic.jobs.id
}

output "push_subscription" {
  description = "The push subscription's short name."
  value       = google_pubsub_subscription.push.name
}

output "dead_letter_subscription" {
  description = "The dead-letter pull subscription's short name."
  value       = google_pubsub_subscription.dead_letter.name
}
