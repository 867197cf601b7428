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
  description = "Who => service account email that reads and writes mirrors (the scanner's)."
  type        = map(string)
}
