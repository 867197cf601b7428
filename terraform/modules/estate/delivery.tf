# Cloud Build's trigger for this environment and the monitoring.

module "build" {
  source            = "../build"
  project_id        = var.project_id
  region            = var.region
  environment       = var.environment
  repository        = var.build_repository
  tag_pattern       = var.environment == "prod" ? "^v.*$" : null
  approval_required = var.environment == "prod"
  approvers         = var.approvers
  webhook_secret_id = module.secrets.names["github-webhook-secret"]
  registry_url      = module.registry.url
  webhook_url       = module.webhook.uri
  api_url           = module.api.uri
  github_app_id     = var.github_app_id

  runtime_service_accounts = {
    webhook   = module.webhook.service_account_email
    api       = module.api.service_account_email
    scanner   = module.scanner.service_account_email
    linker    = module.linker.service_account_email
    migrate   = module.migrate.service_account_email
    reconcile = module.reconcile.service_account_email
    purge     = module.purge.service_account_email
    poll-due  = module.poll_due.service_account_email
    resync    = module.resync.service_account_email
  }
}

module "monitoring" {
  source                    = "../monitoring"
  project_id                = var.project_id
  notification_channels     = var.notification_channels
  source_repository         = var.source_repository
  services                  = ["webhook", "api", "scanner", "linker"]
  push_subscriptions        = [for q in module.queue : q.push_subscription]
  dead_letter_subscriptions = [for q in module.queue : q.dead_letter_subscription]
  database_instance         = module.database.instance_name
  database_max_connections  = var.database.max_connections
  resync_job                = module.resync.name
}
