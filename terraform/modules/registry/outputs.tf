output "url" {
  description = "REGION-docker.pkg.dev/PROJECT/REPOSITORY: the images' prefix."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.app.repository_id}"
}
