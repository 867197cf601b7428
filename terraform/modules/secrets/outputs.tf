output "ids" {
  description = "Secret id => the secret's full resource id."
  value       = { for id, secret in google_secret_manager_secret.this : id => secret.id }
}
