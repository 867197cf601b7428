output "network_id" {
  description = "The VPC's id."
  value       = google_compute_network.this.id
}

output "subnetwork_id" {
  description = "The Direct VPC egress subnet's id."
  value       = google_compute_subnetwork.run.id
}

output "scanner_tag" {
  description = "The network tag the scanner's egress rules select."
  value       = var.scanner_tag
}

output "private_services_connection" {
  description = "The peering Cloud SQL's private IP depends on."
  value       = google_service_networking_connection.services.id
}
