output "name" {
  description = "The job's name."
  value       = google_cloud_run_v2_job.this.name
}

output "service_account_email" {
  description = "The job's own identity."
  value       = google_service_account.this.email
}
