variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The service's region."
  type        = string
}

variable "name" {
  description = "The function: webhook, api, scanner or linker."
  type        = string
  validation {
    condition     = contains(["webhook", "api", "scanner", "linker"], var.name)
    error_message = "name is one of the four functions."
  }
}

variable "public" {
  description = "Ingress from anywhere without IAM (webhook, api); otherwise internal ingress and IAM-checked invokers only."
  type        = bool
}

variable "image" {
  description = "The image at creation; Cloud Build deploys every later one."
  type        = string
}

variable "args" {
  description = "Arguments after the image's entrypoint (the binary)."
  type        = list(string)
  default     = []
}

variable "max_instances" {
  description = "The most instances: bounded by the database connection budget."
  type        = number
  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 100
    error_message = "max_instances is between 1 and 100."
  }
}

variable "concurrency" {
  description = "Requests one instance handles at once."
  type        = number
}

variable "cpu" {
  description = "vCPUs per instance (\"1\", \"2\", \"4\")."
  type        = string
}

variable "memory" {
  description = "Memory per instance (\"512Mi\", \"4Gi\"); /tmp counts against it."
  type        = string
}

variable "timeout_seconds" {
  description = "The request timeout (a push consumer's equals its subscription's ack deadline)."
  type        = number
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variables read from Secret Manager at instance start: NAME => {secret id, pinned version}."
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

variable "invokers" {
  description = "Who => service account email granted run.invoker on this service (static keys: emails are only known after apply)."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Refuse to delete the service through Terraform."
  type        = bool
  default     = true
}
