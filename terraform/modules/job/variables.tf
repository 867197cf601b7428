variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The job's region."
  type        = string
}

variable "name" {
  description = "The job's name (and its service account's suffix)."
  type        = string
}

variable "image" {
  description = "The image at creation; Cloud Build deploys every later one."
  type        = string
}

variable "args" {
  description = "Arguments after the image's entrypoint: the subcommand."
  type        = list(string)
  default     = []
}

variable "cpu" {
  description = "vCPUs."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory."
  type        = string
  default     = "512Mi"
}

variable "timeout_seconds" {
  description = "How long one attempt may run."
  type        = number
  default     = 600
}

variable "max_retries" {
  description = "Attempts after a failed one (0 for migrations: a failure fails the deploy)."
  type        = number
  default     = 1
  validation {
    condition     = var.max_retries >= 0 && var.max_retries <= 10
    error_message = "max_retries is between 0 and 10."
  }
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "NAME => {secret id, pinned version}, read from Secret Manager at start."
  type        = map(object({ secret = string, version = string }))
  default     = {}
}

variable "network_id" {
  description = "The VPC for Direct VPC egress."
  type        = string
}

variable "subnetwork_id" {
  description = "The Direct VPC egress subnet."
  type        = string
}

variable "network_tags" {
  description = "Network tags the VPC firewall rules select."
  type        = list(string)
  default     = []
}

variable "schedule" {
  description = "A cron schedule in UTC, or null for a job started by hand or by Cloud Build."
  type        = string
  default     = null
}

variable "scheduler_service_account_email" {
  description = "The account Cloud Scheduler starts the job as (with a schedule)."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the job through Terraform."
  type        = bool
  default     = true
}
