variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The repository's location."
  type        = string
}

variable "name" {
  description = "The repository id."
  type        = string
  default     = "app"
}

variable "writers" {
  description = "Service account emails that push images (Cloud Build's)."
  type        = list(string)
  default     = []
}
