output "name" {
  description = "The bucket's name (SCANNER_MIRROR_BUCKET)."
  value       = google_storage_bucket.mirrors.name
}
