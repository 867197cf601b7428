output "service_account_email" {
  description = "Cloud Build's account (it pushes images)."
  value       = google_service_account.build.email
}

output "trigger" {
  description = "The trigger's name."
  value       = google_cloudbuild_trigger.deploy.name
}
