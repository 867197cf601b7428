variable "project_id" {
  description = "The project."
  type        = string
}

variable "notification_channels" {
  description = "Notification channel ids (projects/P/notificationChannels/N) every alert goes to."
  type        = list(string)
}

variable "source_repository" {
  description = "owner/name on GitHub, for the runbook links in alerts."
  type        = string
}

variable "services" {
  description = "The Cloud Run services."
  type        = list(string)
}

variable "push_subscriptions" {
  description = "The queues' push subscriptions."
  type        = list(string)
}

variable "dead_letter_subscriptions" {
  description = "The dead-letter topics' subscriptions."
  type        = list(string)
}

variable "database_instance" {
  description = "The Cloud SQL instance's name."
  type        = string
}

variable "database_max_connections" {
  description = "The instance's max_connections."
  type        = number
}

variable "resync_job" {
  description = "The daily resync's Cloud Run job."
  type        = string
}

variable "signature_failures_per_minute" {
  description = "Rejected webhook deliveries a minute that raise an alert."
  type        = number
  default     = 6
}
