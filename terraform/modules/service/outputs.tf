output "name" {
  description = "The service's name."
  value       = google_cloud_run_v2_service.this.name
}

output "uri" {
  description = "The service's run.app URL (push endpoints and OIDC audiences use it)."
  value       = google_cloud_run_v2_service.this.uri
}

output "service_account_email" {
  description = "The service's own identity."
  value       = google_service_account.this.email
}
