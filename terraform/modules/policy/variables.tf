variable "environment" {
  description = "The environment checked (in messages)."
  type        = string
}

variable "budget_ratio" {
  description = "The share of max_connections the services and jobs may take together."
  type        = number
  default     = 0.8
}

variable "database" {
  description = "The Cloud SQL settings with numeric rules."
  type = object({
    max_connections                = number
    transaction_log_retention_days = number
    retained_backups               = number
  })
  validation {
    condition     = var.database.max_connections >= 25 && var.database.max_connections <= 4000
    error_message = "database.max_connections is between 25 and 4000."
  }
  # ENTERPRISE keeps 1 to 7 days of WAL (a larger value is a 400 from the API).
  validation {
    condition     = var.database.transaction_log_retention_days >= 1 && var.database.transaction_log_retention_days <= 7
    error_message = "database.transaction_log_retention_days is between 1 and 7 on the ENTERPRISE edition."
  }
  validation {
    condition     = var.database.retained_backups > var.database.transaction_log_retention_days
    error_message = "database.retained_backups must exceed transaction_log_retention_days (the oldest WAL needs the backup before it)."
  }
}

variable "services" {
  description = "Per Cloud Run service: max instances, request concurrency, pool size (DATABASE_MAX_CONNECTIONS), request timeout, and the connections an instance holds beside its pool (the api's one LISTEN connection of the live pages)."
  type = map(object({
    max_instances   = number
    concurrency     = number
    pool_size       = number
    timeout_seconds = number
    listeners       = optional(number, 0)
  }))
  validation {
    condition     = alltrue([for s in values(var.services) : s.max_instances >= 1 && s.max_instances <= 100])
    error_message = "Every service's max_instances is bounded: between 1 and 100."
  }
  validation {
    condition     = alltrue([for s in values(var.services) : s.concurrency >= 1 && s.concurrency <= 1000])
    error_message = "Every service's concurrency is between 1 and 1000."
  }
  # The functions accept DATABASE_MAX_CONNECTIONS from 1 to 100.
  validation {
    condition     = alltrue([for s in values(var.services) : s.pool_size >= 1 && s.pool_size <= 100])
    error_message = "Every service's pool_size is between 1 and 100."
  }
  # At most two connections per concurrent request (a push consumer's claim and its work, see
  # main.tf); more would sit idle, held from the budget.
  validation {
    condition     = alltrue([for s in values(var.services) : s.pool_size <= 2 * s.concurrency])
    error_message = "A service's pool_size may not exceed twice its concurrency."
  }
  validation {
    condition     = alltrue([for s in values(var.services) : s.timeout_seconds >= 1 && s.timeout_seconds <= 3600])
    error_message = "Every service's timeout_seconds is between 1 and 3600."
  }
}

variable "jobs" {
  description = "Cloud Run jobs that may run beside the services (one task each) and their pool sizes."
  type        = map(object({ pool_size = number }))
  validation {
    condition     = alltrue([for j in values(var.jobs) : j.pool_size >= 1 && j.pool_size <= 100])
    error_message = "Every job's pool_size is between 1 and 100."
  }
}

variable "queues" {
  description = "Per Pub/Sub queue: its consumer service, ack deadline, delivery attempts and retry backoff."
  type = map(object({
    consumer              = string
    ack_deadline_seconds  = number
    max_delivery_attempts = number
    min_backoff_seconds   = number
    max_backoff_seconds   = number
  }))
  validation {
    condition     = alltrue([for q in values(var.queues) : q.ack_deadline_seconds >= 10 && q.ack_deadline_seconds <= 600])
    error_message = "Every queue's ack_deadline_seconds is between 10 and 600."
  }
  validation {
    condition     = alltrue([for q in values(var.queues) : q.max_delivery_attempts >= 5 && q.max_delivery_attempts <= 100])
    error_message = "Every queue's max_delivery_attempts is between 5 and 100."
  }
  validation {
    condition = alltrue([for q in values(var.queues) :
      q.min_backoff_seconds >= 0 && q.max_backoff_seconds <= 600 && q.min_backoff_seconds <= q.max_backoff_seconds
    ])
    error_message = "Every queue's backoff lies within 0 to 600 seconds, minimum before maximum."
  }
}
