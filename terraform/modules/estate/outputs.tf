output "webhook_url" {
  description = "Register <this>/webhooks/github as the GitHub App's webhook URL."
  value       = module.webhook.uri
}

output "api_url" {
  description = "The api's run.app URL (map the public domain onto it)."
  value       = module.api.uri
}

output "database_private_ip" {
  description = "The host in the database URLs."
  value       = module.database.private_ip
}

output "database_instance" {
  description = "The Cloud SQL instance (gcloud sql … --instance)."
  value       = module.database.instance_name
}

output "registry" {
  description = "The images' prefix."
  value       = module.registry.url
}

output "connection_budget" {
  description = "Connections the services and jobs may hold together, and the budget."
  value       = "${module.policy.connections_used} of ${module.policy.connections_limit}"
}

output "alert_policies" {
  description = "The alert policies."
  value       = module.monitoring.alert_policies
}
