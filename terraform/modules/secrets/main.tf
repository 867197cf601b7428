# Secret Manager secrets, created empty: their values never pass through Terraform (state or
# tfvars). An operator adds each version (`gcloud secrets versions add`, docs/deploy.md); the
# services read pinned versions, granted per secret to the identities that use it (modules/service,
# modules/job).

resource "google_secret_manager_secret" "this" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = each.key
  labels    = { app = "dashboard" }
  annotations = {
    description = each.value
  }
  replication {
    auto {}
  }
}
