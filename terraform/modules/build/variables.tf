variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "Where builds run and the trigger lives."
  type        = string
}

variable "environment" {
  description = "staging or prod."
  type        = string
}

variable "repository" {
  description = "The Cloud Build (2nd gen) repository: projects/P/locations/R/connections/C/repositories/NAME, connected once by an operator (docs/deploy.md)."
  type        = string
}

variable "branch_pattern" {
  description = "The branch whose pushes deploy (staging)."
  type        = string
  default     = "^main$"
}

variable "tag_pattern" {
  description = "The tags that deploy (prod), or null to deploy on branch_pattern."
  type        = string
  default     = null
}

variable "approval_required" {
  description = "A build waits for an approver before it starts (prod)."
  type        = bool
}

variable "approvers" {
  description = "Members (user:…, group:…) who may approve builds."
  type        = list(string)
  default     = []
}

variable "runtime_service_accounts" {
  description = "Name => email of the services' and jobs' accounts the build deploys revisions as."
  type        = map(string)
}

variable "webhook_secret_id" {
  description = "The GitHub webhook secret, read to sign the smoke test's ping."
  type        = string
}

variable "registry_url" {
  description = "The images' prefix."
  type        = string
}

variable "webhook_url" {
  description = "The webhook service's URL (smoke test)."
  type        = string
}

variable "api_url" {
  description = "The api service's URL (smoke test)."
  type        = string
}

variable "github_app_id" {
  description = "The GitHub App's id, which the smoke test's ping names."
  type        = string
}
