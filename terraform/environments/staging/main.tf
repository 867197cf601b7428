provider "google" {
  project = var.project_id
  region  = var.region
  default_labels = {
    app         = "dashboard"
    environment = var.environment
  }
}

module "estate" {
  source = "../../modules/estate"

  project_id                      = var.project_id
  region                          = var.region
  environment                     = var.environment
  public_url                      = var.public_url
  mail_from                       = var.mail_from
  github_app_id                   = var.github_app_id
  source_repository               = var.source_repository
  build_repository                = var.build_repository
  approvers                       = var.approvers
  notification_channels           = var.notification_channels
  deletion_protection             = var.deletion_protection
  database                        = var.database
  services                        = var.services
  jobs                            = var.jobs
  queues                          = var.queues
  scanner_max_mirror_bytes        = var.scanner_max_mirror_bytes
  secret_versions                 = var.secret_versions
  previous_webhook_secret_version = var.previous_webhook_secret_version
  sign_in_secrets                 = var.sign_in_secrets
  api_env                         = var.api_env
  network                         = var.network
}

output "webhook_url" {
  description = "Register <this>/webhooks/github as the GitHub App's webhook URL."
  value       = module.estate.webhook_url
}

output "api_url" {
  description = "The api's run.app URL."
  value       = module.estate.api_url
}

output "database_private_ip" {
  description = "The host in the database URLs."
  value       = module.estate.database_private_ip
}

output "database_instance" {
  description = "The Cloud SQL instance."
  value       = module.estate.database_instance
}

output "registry" {
  description = "The images' prefix."
  value       = module.estate.registry
}

output "connection_budget" {
  description = "Connections used of the budget."
  value       = module.estate.connection_budget
}
