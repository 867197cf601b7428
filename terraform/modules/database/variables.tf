variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The instance's region."
  type        = string
}

variable "name" {
  description = "The instance's name."
  type        = string
}

variable "network_id" {
  description = "The VPC the private IP is allocated in."
  type        = string
}

variable "private_services_connection" {
  description = "The Private Services Access peering, which must exist first."
  type        = string
}

variable "tier" {
  description = "The machine tier (db-custom-CPUS-MEMORY_MB)."
  type        = string
}

variable "availability_type" {
  description = "ZONAL or REGIONAL (high availability, prod)."
  type        = string
  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type is ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  description = "The initial disk size; it grows by itself."
  type        = number
  default     = 20
}

variable "max_connections" {
  description = "PostgreSQL's max_connections: the tier's default, set explicitly so the connection budget is checked against the real number."
  type        = number
}

variable "transaction_log_retention_days" {
  description = "Days of WAL kept for point-in-time recovery (1 to 7 on ENTERPRISE)."
  type        = number
  default     = 7
}

variable "retained_backups" {
  description = "Daily backups kept: one more than the days of WAL."
  type        = number
  default     = 8
}

variable "deletion_protection" {
  description = "Blocks deletion through Terraform and through the API, console and gcloud."
  type        = bool
  default     = true
}
