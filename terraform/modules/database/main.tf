# Cloud SQL for PostgreSQL 16: private IP only, TLS only, backups with point-in-time recovery,
# deletion protection both in Terraform and in the API, `max_connections` set explicitly (the
# connection budget is checked against this number), a maintenance window. No user is created here:
# a password in Terraform would sit in its state. The operator sets the `postgres` password with
# `gcloud sql users set-password` and `dashboard migrate` creates the roles (docs/deploy.md).

resource "google_sql_database_instance" "this" {
  project             = var.project_id
  name                = var.name
  region              = var.region
  database_version    = "POSTGRES_16"
  deletion_protection = var.deletion_protection

  settings {
    # Explicit: with the edition omitted, PostgreSQL 16 defaults to ENTERPRISE_PLUS, which rejects
    # the db-custom-* tiers.
    edition                     = "ENTERPRISE"
    tier                        = var.tier
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = { app = "dashboard" }

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled = true
      # Off by default for ENTERPRISE instances created through the API.
      point_in_time_recovery_enabled = true
      start_time                     = "02:00"
      transaction_log_retention_days = var.transaction_log_retention_days
      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7 # Sunday
      hour         = 4 # 04:00 UTC, after the 03:00 resync
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "max_connections"
      value = tostring(var.max_connections)
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "1000"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "idle_in_transaction_session_timeout"
      value = "60000"
    }
  }

  depends_on = [var.private_services_connection]
}

resource "google_sql_database" "dashboard" {
  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = "dashboard"
}
