variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The region of the Cloud Run subnet."
  type        = string
}

variable "name" {
  description = "The network's name (and its resources' prefix)."
  type        = string
  default     = "dashboard"
}

variable "run_subnet_cidr" {
  description = "The subnet Direct VPC egress takes addresses from: /26 or larger (addresses are reserved 16 at a time, about 2 per instance)."
  type        = string
  default     = "10.8.0.0/24"
  validation {
    condition     = tonumber(split("/", var.run_subnet_cidr)[1]) <= 26
    error_message = "Direct VPC egress needs a /26 or larger subnet."
  }
}

variable "services_prefix_length" {
  description = "The prefix length of the Private Services Access range (Cloud SQL's private IPs)."
  type        = number
  default     = 20
}

variable "scanner_tag" {
  description = "The network tag of the scanner's instances, which the egress rules select."
  type        = string
  default     = "dashboard-scanner"
}
