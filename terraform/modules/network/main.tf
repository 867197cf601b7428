# The VPC the services reach Cloud SQL through: one subnet for Cloud Run's Direct VPC egress (no
# connector VMs), a Private Services Access range peered with Google's service network (Cloud SQL's
# private IP comes from it), and egress firewall rules that keep the scanner — which fetches
# arbitrary git remotes — away from every private range except the database port.

resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "run" {
  project                  = var.project_id
  name                     = "${var.name}-run"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.run_subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_global_address" "services" {
  project       = var.project_id
  name          = "${var.name}-google-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.services_prefix_length
  network       = google_compute_network.this.id

  # Google picks a free range for it: after the subnet exists, so that it cannot pick the subnet's.
  depends_on = [google_compute_subnetwork.run]
}

resource "google_service_networking_connection" "services" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.services.name]
}

locals {
  services_range = "${google_compute_global_address.services.address}/${var.services_prefix_length}"
  # RFC 1918, shared address space (RFC 6598) and link-local: nothing a public git remote lives on.
  private_ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]
}

# The scanner may reach PostgreSQL on the private services range, and nothing else private. With
# `PRIVATE_RANGES_ONLY` egress its public traffic (GitHub, Cloud Storage) leaves Cloud Run directly;
# what enters the VPC is what these rules see. The metadata server is not reached through the VPC:
# the scanner needs it for its own tokens, and its remote policy refuses 169.254.0.0/16 for fetches.
resource "google_compute_firewall" "scanner_database" {
  project            = var.project_id
  name               = "${var.name}-scanner-allow-database"
  network            = google_compute_network.this.id
  direction          = "EGRESS"
  priority           = 900
  target_tags        = [var.scanner_tag]
  destination_ranges = [local.services_range]
  allow {
    protocol = "tcp"
    ports    = ["5432"]
  }
}

resource "google_compute_firewall" "scanner_private_ranges" {
  project            = var.project_id
  name               = "${var.name}-scanner-deny-private"
  network            = google_compute_network.this.id
  direction          = "EGRESS"
  priority           = 1000
  target_tags        = [var.scanner_tag]
  destination_ranges = local.private_ranges
  deny {
    protocol = "all"
  }
  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
