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
  description = "Who => service account email that pushes images (Cloud Build's)."
  type        = map(string)
  default     = {}
}
