output "instance_name" {
  description = "The instance's name."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "PROJECT:REGION:INSTANCE."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip" {
  description = "The private IP the services connect to (put it into the database URLs)."
  value       = google_sql_database_instance.this.private_ip_address
}

output "database" {
  description = "The application's database."
  value       = google_sql_database.dashboard.name
}
