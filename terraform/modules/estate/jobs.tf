# The Cloud Run jobs: the migration (run by Cloud Build before each deploy) and the scheduled ones,
# each with its own account and only the secrets it reads; and the sweeper, a scheduled call of the
# linker's `POST /jobs/sweep`.

module "migrate" {
  source              = "../job"
  project_id          = var.project_id
  region              = var.region
  name                = "migrate"
  image               = local.image["migrate"]
  max_retries         = 0 # a failed migration fails the deploy; it is not run twice
  timeout_seconds     = 600
  network_id          = module.network.network_id
  subnetwork_id       = module.network.subnetwork_id
  deletion_protection = var.deletion_protection

  env = local.common_env
  secret_env = {
    DATABASE_URL = local.secret["database-admin-url"]
  }
}

module "reconcile" {
  source                          = "../job"
  project_id                      = var.project_id
  region                          = var.region
  name                            = "reconcile"
  image                           = local.image["webhook"]
  args                            = ["reconcile"]
  schedule                        = "0 * * * *"
  scheduler_service_account_email = google_service_account.scheduler.email
  network_id                      = module.network.network_id
  subnetwork_id                   = module.network.subnetwork_id
  deletion_protection             = var.deletion_protection

  env = merge(local.common_env, local.github_env, {
    DATABASE_MAX_CONNECTIONS = tostring(var.jobs["reconcile"].pool_size)
  })
  secret_env = {
    DATABASE_URL           = local.secret["database-url"]
    GITHUB_APP_PRIVATE_KEY = local.secret["github-app-private-key"]
  }
}

module "purge" {
  source                          = "../job"
  project_id                      = var.project_id
  region                          = var.region
  name                            = "purge"
  image                           = local.image["webhook"]
  args                            = ["purge"]
  schedule                        = "30 4 * * *"
  scheduler_service_account_email = google_service_account.scheduler.email
  timeout_seconds                 = 1800
  network_id                      = module.network.network_id
  subnetwork_id                   = module.network.subnetwork_id
  deletion_protection             = var.deletion_protection

  env = merge(local.common_env, {
    DATABASE_MAX_CONNECTIONS = tostring(var.jobs["purge"].pool_size)
  })
  secret_env = {
    DATABASE_URL = local.secret["database-url"]
  }
}

module "poll_due" {
  source                          = "../job"
  project_id                      = var.project_id
  region                          = var.region
  name                            = "poll-due"
  image                           = local.image["scanner"]
  args                            = ["poll-due"]
  schedule                        = "*/5 * * * *"
  scheduler_service_account_email = google_service_account.scheduler.email
  timeout_seconds                 = 240
  network_id                      = module.network.network_id
  subnetwork_id                   = module.network.subnetwork_id
  deletion_protection             = var.deletion_protection

  env = merge(local.common_env, local.queue_env, {
    DATABASE_MAX_CONNECTIONS = tostring(var.jobs["poll-due"].pool_size)
  })
  secret_env = {
    DATABASE_URL = local.secret["database-url"]
  }
}

module "resync" {
  source                          = "../job"
  project_id                      = var.project_id
  region                          = var.region
  name                            = "resync"
  image                           = local.image["scanner"]
  args                            = ["resync"]
  schedule                        = "0 3 * * *"
  scheduler_service_account_email = google_service_account.scheduler.email
  max_retries                     = 2
  timeout_seconds                 = 1800
  network_id                      = module.network.network_id
  subnetwork_id                   = module.network.subnetwork_id
  deletion_protection             = var.deletion_protection

  env = merge(local.common_env, local.queue_env, {
    DATABASE_MAX_CONNECTIONS = tostring(var.jobs["resync"].pool_size)
  })
  secret_env = {
    DATABASE_URL = local.secret["database-url"]
  }
}

# Re-publishes jobs whose message was lost (queued for more than 10 minutes).
resource "google_cloud_scheduler_job" "sweep" {
  project          = var.project_id
  region           = var.region
  name             = "sweep"
  description      = "Calls the linker's POST /jobs/sweep."
  schedule         = "*/5 * * * *"
  time_zone        = "Etc/UTC"
  attempt_deadline = "120s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "120s"
  }

  http_target {
    http_method = "POST"
    uri         = "${module.linker.uri}/jobs/sweep"
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.linker.uri
    }
  }
}
