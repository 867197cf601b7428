output "names" {
  description = "Secret id => its name in this project (known at plan time, and a dependency on the secret)."
  value       = { for id, secret in google_secret_manager_secret.this : id => secret.secret_id }
}
