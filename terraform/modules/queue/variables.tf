variable "project_id" {
  description = "The project."
  type        = string
}

variable "project_number" {
  description = "The project's number (names Pub/Sub's service agent)."
  type        = string
}

variable "name" {
  description = "The queue: scan or link (topic `<name>-jobs`)."
  type        = string
}

variable "push_endpoint" {
  description = "The consumer's push URL on its run.app address (internal ingress admits Pub/Sub only there)."
  type        = string
}

variable "audience" {
  description = "The OIDC token's audience: the consumer's run.app URL."
  type        = string
}

variable "push_service_account_email" {
  description = "The account Pub/Sub signs push requests as (run.invoker on the consumer)."
  type        = string
}

variable "ack_deadline_seconds" {
  description = "For push, the request timeout."
  type        = number
  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds is between 10 and 600."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries before a message is dead-lettered."
  type        = number
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts is between 5 and 100."
  }
}

variable "min_backoff_seconds" {
  description = "The retry policy's first delay."
  type        = number
  default     = 10
}

variable "max_backoff_seconds" {
  description = "The retry policy's longest delay."
  type        = number
  default     = 600
}

variable "publishers" {
  description = "Who => service account email that publishes jobs to this queue."
  type        = map(string)
}
