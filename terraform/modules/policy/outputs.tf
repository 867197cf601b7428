output "connections_used" {
  description = "Connections the services and jobs may hold together."
  value       = local.connections_used
}

output "connections_limit" {
  description = "The budget: max_connections x budget_ratio."
  value       = local.connections_limit
}
