# One environment of Dashboard: the four functions on Cloud Run, their two Pub/Sub queues, the
# scheduled jobs, Cloud SQL on a private network, the secrets (empty), the mirrors bucket, the image
# registry, the Cloud Build trigger and the monitoring, with the policy module checking the numbers
# (the connection budget) on every plan.

data "google_project" "this" {
  project_id = var.project_id
}

module "policy" {
  source      = "../policy"
  environment = var.environment
  database = {
    max_connections                = var.database.max_connections
    transaction_log_retention_days = var.database.transaction_log_retention_days
    retained_backups               = var.database.retained_backups
  }
  services = {
    for name, s in var.services : name => {
      max_instances   = s.max_instances
      concurrency     = s.concurrency
      pool_size       = s.pool_size
      timeout_seconds = s.timeout_seconds
      listeners       = s.listeners
    }
  }
  jobs   = var.jobs
  queues = var.queues
}

locals {
  # The images at creation: Cloud Build pushes :latest beside every :SHORT_SHA and deploys the
  # latter from then on (ignore_changes in modules/service and modules/job).
  image = {
    for name in ["webhook", "api", "scanner", "linker", "migrate"] :
    name => "${module.registry.url}/${name}:latest"
  }
  # Topic names are fixed strings, so the services need nothing from the queues (which need the
  # services' URLs).
  topics = { for name in keys(var.queues) : name => "projects/${var.project_id}/topics/${name}-jobs" }

  secrets = merge(
    {
      "database-url"           = "postgres://dashboard_app:PASSWORD@PRIVATE_IP:5432/dashboard?sslmode=require: the runtime role, for every function and scheduled job"
      "database-admin-url"     = "postgres://postgres:PASSWORD@PRIVATE_IP:5432/dashboard?sslmode=require: the migrate job"
      "github-webhook-secret"  = "the GitHub App's webhook secret"
      "github-app-private-key" = "the GitHub App's private key (PEM)"
      "jwt-signing-keys"       = "PKCS#8 Ed25519 private keys (PEM), newest first: the api's token signing keys"
      "secrets-encryption-key" = "32 random bytes, base64: seals hook secrets, remote credentials and TOTP secrets"
      "smtp-url"               = "smtps://user:password@host: the api's outgoing mail"
    },
    { for name in var.sign_in_secrets : lower(replace(name, "_", "-")) => "the api's ${name}" },
  )
  secret = {
    for id in keys(local.secrets) : id => {
      secret  = module.secrets.names[id]
      version = lookup(var.secret_versions, id, "1")
    }
  }

  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    LOG_FORMAT           = "json"
    RUST_LOG             = "info"
  }
  queue_env = {
    QUEUE_TRANSPORT   = "pubsub"
    PUBSUB_TOPIC_SCAN = local.topics["scan"]
    PUBSUB_TOPIC_LINK = local.topics["link"]
  }
  github_env = { GITHUB_APP_ID = var.github_app_id }
  previous_webhook_secret = var.previous_webhook_secret_version == null ? {} : {
    GITHUB_WEBHOOK_SECRET_PREVIOUS = {
      secret  = module.secrets.names["github-webhook-secret"]
      version = var.previous_webhook_secret_version
    }
  }
  pool = { for name, s in var.services : name => { DATABASE_MAX_CONNECTIONS = tostring(s.pool_size) } }
}

module "network" {
  source     = "../network"
  project_id = var.project_id
  region     = var.region
  name       = "dashboard"

  run_subnet_cidr = var.network.run_subnet_cidr
}

module "database" {
  source                      = "../database"
  project_id                  = var.project_id
  region                      = var.region
  name                        = "dashboard-${var.environment}"
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection

  tier                           = var.database.tier
  availability_type              = var.database.availability_type
  max_connections                = var.database.max_connections
  disk_size_gb                   = var.database.disk_size_gb
  transaction_log_retention_days = var.database.transaction_log_retention_days
  retained_backups               = var.database.retained_backups
  deletion_protection            = var.deletion_protection
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secrets    = local.secrets
}

module "registry" {
  source     = "../registry"
  project_id = var.project_id
  region     = var.region
  writers    = { build = module.build.service_account_email }
}

module "mirrors" {
  source     = "../mirrors"
  project_id = var.project_id
  region     = var.region
  name       = "${var.project_id}-mirrors"
  users      = { scanner = module.scanner.service_account_email }
}

# Identities that call the private services: Pub/Sub's push requests and Cloud Scheduler.
resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "pubsub-push"
  display_name = "Dashboard Pub/Sub push (invokes scanner and linker)"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "scheduler"
  display_name = "Dashboard Cloud Scheduler (starts jobs, calls the sweeper)"
}

# Pub/Sub's service agent mints the push requests' OIDC tokens as the push account.
resource "google_service_account_iam_member" "pubsub_agent_signs_push_tokens" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

module "webhook" {
  source              = "../service"
  project_id          = var.project_id
  region              = var.region
  name                = "webhook"
  public              = true
  image               = local.image["webhook"]
  max_instances       = var.services["webhook"].max_instances
  concurrency         = var.services["webhook"].concurrency
  timeout_seconds     = var.services["webhook"].timeout_seconds
  cpu                 = var.services["webhook"].cpu
  memory              = var.services["webhook"].memory
  network_id          = module.network.network_id
  subnetwork_id       = module.network.subnetwork_id
  deletion_protection = var.deletion_protection

  env = merge(local.common_env, local.queue_env, local.github_env, local.pool["webhook"])
  # Not the App's private key: the public webhook only verifies and stores deliveries; the
  # reconcile job, which reads them back from GitHub as the App, has its own account.
  secret_env = merge({
    DATABASE_URL           = local.secret["database-url"]
    GITHUB_WEBHOOK_SECRET  = local.secret["github-webhook-secret"]
    SECRETS_ENCRYPTION_KEY = local.secret["secrets-encryption-key"]
  }, local.previous_webhook_secret)
}

module "api" {
  source              = "../service"
  project_id          = var.project_id
  region              = var.region
  name                = "api"
  public              = true
  image               = local.image["api"]
  max_instances       = var.services["api"].max_instances
  concurrency         = var.services["api"].concurrency
  timeout_seconds     = var.services["api"].timeout_seconds
  cpu                 = var.services["api"].cpu
  memory              = var.services["api"].memory
  network_id          = module.network.network_id
  subnetwork_id       = module.network.subnetwork_id
  deletion_protection = var.deletion_protection

  env = merge(local.common_env, local.pool["api"], var.api_env, {
    PUBLIC_URL = var.public_url
    MAIL_FROM  = var.mail_from
  })
  secret_env = merge({
    DATABASE_URL           = local.secret["database-url"]
    JWT_SIGNING_KEYS       = local.secret["jwt-signing-keys"]
    SECRETS_ENCRYPTION_KEY = local.secret["secrets-encryption-key"]
    SMTP_URL               = local.secret["smtp-url"]
  }, { for name in var.sign_in_secrets : name => local.secret[lower(replace(name, "_", "-"))] })
}

module "scanner" {
  source              = "../service"
  project_id          = var.project_id
  region              = var.region
  name                = "scanner"
  public              = false
  image               = local.image["scanner"]
  max_instances       = var.services["scanner"].max_instances
  concurrency         = var.services["scanner"].concurrency
  timeout_seconds     = var.services["scanner"].timeout_seconds
  cpu                 = var.services["scanner"].cpu
  memory              = var.services["scanner"].memory
  network_id          = module.network.network_id
  subnetwork_id       = module.network.subnetwork_id
  network_tags        = [module.network.scanner_tag]
  invokers            = { push = google_service_account.push.email }
  deletion_protection = var.deletion_protection

  env = merge(local.common_env, local.queue_env, local.github_env, local.pool["scanner"], {
    SCANNER_MIRROR_BUCKET    = "${var.project_id}-mirrors"
    SCANNER_MIRROR_DIR       = "/tmp/dashboard-mirrors"
    SCANNER_MAX_MIRROR_BYTES = tostring(var.scanner_max_mirror_bytes)
  })
  secret_env = {
    DATABASE_URL           = local.secret["database-url"]
    GITHUB_APP_PRIVATE_KEY = local.secret["github-app-private-key"]
    SECRETS_ENCRYPTION_KEY = local.secret["secrets-encryption-key"]
  }
}

module "linker" {
  source          = "../service"
  project_id      = var.project_id
  region          = var.region
  name            = "linker"
  public          = false
  image           = local.image["linker"]
  max_instances   = var.services["linker"].max_instances
  concurrency     = var.services["linker"].concurrency
  timeout_seconds = var.services["linker"].timeout_seconds
  cpu             = var.services["linker"].cpu
  memory          = var.services["linker"].memory
  network_id      = module.network.network_id
  subnetwork_id   = module.network.subnetwork_id
  invokers = {
    push      = google_service_account.push.email
    scheduler = google_service_account.scheduler.email
  }
  deletion_protection = var.deletion_protection

  env = merge(local.common_env, local.queue_env, local.github_env, local.pool["linker"])
  secret_env = {
    DATABASE_URL           = local.secret["database-url"]
    GITHUB_APP_PRIVATE_KEY = local.secret["github-app-private-key"]
  }
}

module "queue" {
  for_each       = var.queues
  source         = "../queue"
  project_id     = var.project_id
  project_number = data.google_project.this.number
  name           = each.key

  push_endpoint              = "${local.consumer_uri[each.value.consumer]}/jobs/push"
  audience                   = local.consumer_uri[each.value.consumer]
  push_service_account_email = google_service_account.push.email
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  max_delivery_attempts      = each.value.max_delivery_attempts
  min_backoff_seconds        = each.value.min_backoff_seconds
  max_backoff_seconds        = each.value.max_backoff_seconds

  # Whoever enqueues: deliveries (webhook), scans that relink and rescans (scanner, poll-due,
  # resync), ingestion and the sweeper (linker).
  publishers = {
    webhook  = module.webhook.service_account_email
    scanner  = module.scanner.service_account_email
    linker   = module.linker.service_account_email
    poll-due = module.poll_due.service_account_email
    resync   = module.resync.service_account_email
  }
}

locals {
  consumer_uri = {
    scanner = module.scanner.uri
    linker  = module.linker.uri
  }
}
