variable "project_id" {
  description = "The project."
  type        = string
}

variable "secrets" {
  description = "Secret id => what it holds (documentation only: never a value)."
  type        = map(string)
}
