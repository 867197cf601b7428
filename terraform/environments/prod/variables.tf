variable "project_id" {
  description = "The environment's project (one project per environment)."
  type        = string
}

variable "region" {
  description = "Where everything runs."
  type        = string
}

variable "environment" {
  description = "staging or prod."
  type        = string
  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment is staging or prod."
  }
}

variable "public_url" {
  description = "The origin browsers reach the api at (PUBLIC_URL), e.g. https://dashboard.example.com."
  type        = string
}

variable "mail_from" {
  description = "The sender of the api's mails (MAIL_FROM)."
  type        = string
}

variable "github_app_id" {
  description = "The GitHub App's id (not a secret)."
  type        = string
}

variable "source_repository" {
  description = "The code's GitHub owner/name (runbook links)."
  type        = string
}

variable "build_repository" {
  description = "The Cloud Build 2nd-gen repository resource the trigger watches."
  type        = string
}

variable "approvers" {
  description = "Members who may approve a prod build."
  type        = list(string)
  default     = []
}

variable "notification_channels" {
  description = "Monitoring notification channel ids every alert goes to."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Refuse to delete the database, services and jobs (false only where an environment is disposable)."
  type        = bool
  default     = true
}

variable "database" {
  description = "Cloud SQL: tier, availability, max_connections (the tier's default, set explicitly), disk and backups."
  type = object({
    tier                           = string
    availability_type              = string
    max_connections                = number
    disk_size_gb                   = number
    transaction_log_retention_days = number
    retained_backups               = number
  })
}

variable "services" {
  description = "Per function: max instances, concurrency, pool size (DATABASE_MAX_CONNECTIONS), timeout, connections held beside the pool (listeners: the api's one LISTEN of the live pages), CPU and memory."
  type = map(object({
    max_instances   = number
    concurrency     = number
    pool_size       = number
    timeout_seconds = number
    listeners       = optional(number, 0)
    cpu             = string
    memory          = string
  }))
  validation {
    condition     = length(setsubtract(["webhook", "api", "scanner", "linker"], keys(var.services))) == 0
    error_message = "services configures webhook, api, scanner and linker."
  }
}

variable "jobs" {
  description = "Per Cloud Run job (migrate, reconcile, purge, poll-due, resync): its pool size."
  type        = map(object({ pool_size = number }))
  validation {
    condition     = length(setsubtract(["migrate", "reconcile", "purge", "poll-due", "resync"], keys(var.jobs))) == 0
    error_message = "jobs configures migrate, reconcile, purge, poll-due and resync."
  }
}

variable "queues" {
  description = "Per queue (scan, link): consumer, ack deadline, delivery attempts before dead-lettering, retry backoff."
  type = map(object({
    consumer              = string
    ack_deadline_seconds  = number
    max_delivery_attempts = number
    min_backoff_seconds   = number
    max_backoff_seconds   = number
  }))
}

variable "scanner_max_mirror_bytes" {
  description = "SCANNER_MAX_MIRROR_BYTES: the largest fetch; mirrors live in /tmp, which is memory on Cloud Run."
  type        = number
  default     = 1073741824
}

variable "secret_versions" {
  description = "Secret id => the version the services read (pinned: env secrets resolve at instance start). Rotation: add a version, raise the number here, apply."
  type        = map(string)
  default     = {}
}

variable "previous_webhook_secret_version" {
  description = "During a webhook secret rotation: the old version, also accepted (GITHUB_WEBHOOK_SECRET_PREVIOUS). null otherwise."
  type        = string
  default     = null
}

variable "sign_in_secrets" {
  description = "Optional sign-in providers' client secrets the api reads (GITHUB_CLIENT_SECRET, GOOGLE_CLIENT_SECRET, OIDC_CLIENT_SECRET); their ids go with them in api_env."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for name in var.sign_in_secrets : contains(["GITHUB_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET", "OIDC_CLIENT_SECRET"], name)])
    error_message = "sign_in_secrets names GITHUB_CLIENT_SECRET, GOOGLE_CLIENT_SECRET or OIDC_CLIENT_SECRET."
  }
}

variable "api_env" {
  description = "Further plain settings of the api (GITHUB_CLIENT_ID, OIDC_ISSUER, …): never a secret."
  type        = map(string)
  default     = {}
}

variable "network" {
  description = "Address ranges: the Direct VPC egress subnet."
  type        = object({ run_subnet_cidr = string })
  default     = { run_subnet_cidr = "10.8.0.0/24" }
}
