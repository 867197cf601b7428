# Prod: no secret here, ever (they are Secret Manager versions, docs/deploy.md). The numbers below
# are checked offline by modules/policy (scripts/test) and on every plan.

project_id        = "dashboard-prod"
region            = "europe-west1"
environment       = "prod"
public_url        = "https://dashboard.example.com"
mail_from         = "Dashboard <no-reply@dashboard.example.com>"
github_app_id     = "000000"
source_repository = "example/dashboard"
build_repository  = "projects/dashboard-prod/locations/europe-west1/connections/github/repositories/dashboard"
approvers         = []

notification_channels = []

database = {
  tier                           = "db-custom-2-7680"
  availability_type              = "REGIONAL"
  max_connections                = 200
  disk_size_gb                   = 50
  transaction_log_retention_days = 7
  retained_backups               = 8
}

# Budget: 5x4 + 8x10 + 5x4 + 4x6 + 5 jobs x 2 = 154 <= 160 (200 x 0.8). The queue consumers
# (scanner, linker) hold two connections per concurrent push: the job's claim and its work.
# The linker holds its embedding model (about 110 MB resident) and up to about 300 MB more for each
# concurrent embedding pass (scripts/bench-link).
services = {
  webhook = { max_instances = 5, concurrency = 80, pool_size = 4, timeout_seconds = 10, cpu = "1", memory = "512Mi" }
  api     = { max_instances = 8, concurrency = 80, pool_size = 9, timeout_seconds = 900, listeners = 1, cpu = "1", memory = "1Gi" }
  scanner = { max_instances = 5, concurrency = 2, pool_size = 4, timeout_seconds = 600, cpu = "2", memory = "4Gi" }
  linker  = { max_instances = 4, concurrency = 3, pool_size = 6, timeout_seconds = 120, cpu = "1", memory = "2Gi" }
}

jobs = {
  migrate   = { pool_size = 2 } # fixed by `dashboard migrate`
  reconcile = { pool_size = 2 }
  purge     = { pool_size = 2 }
  poll-due  = { pool_size = 2 }
  resync    = { pool_size = 2 }
}

queues = {
  scan = { consumer = "scanner", ack_deadline_seconds = 600, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
  link = { consumer = "linker", ack_deadline_seconds = 120, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
}

secret_versions = {}
