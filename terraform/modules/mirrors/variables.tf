variable "project_id" {
  description = "The project."
  type        = string
}

variable "region" {
  description = "The bucket's location (the scanner's region)."
  type        = string
}

variable "name" {
  description = "The bucket's globally unique name."
  type        = string
}

variable "users" {
  description = "Service account emails that read and write mirrors (the scanner's)."
  type        = list(string)
}
