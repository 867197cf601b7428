# Delivery: Cloud Build's own service account (new triggers must name one) with only what
# cloudbuild.yaml does — push images, update the services' and jobs' images, run the migration job,
# read the webhook secret for the smoke test's signed ping — and the trigger of this environment:
# staging on every push to main, prod on a v* tag behind a manual approval, both with the same
# cloudbuild.yaml.

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "cloud-build-deploy"
  display_name = "Dashboard Cloud Build (test, build, deploy)"
}

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/run.developer",
    "roles/logging.logWriter",
  ])
  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

# Deploying a revision that runs as an account needs actAs on that account.
resource "google_service_account_iam_member" "acts_as_runtime" {
  for_each           = var.runtime_service_accounts
  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.build.email}"
}

resource "google_secret_manager_secret_iam_member" "smoke_signing" {
  project   = var.project_id
  secret_id = var.webhook_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.build.email}"
}

resource "google_project_iam_member" "approvers" {
  for_each = toset(var.approvers)
  project  = var.project_id
  role     = "roles/cloudbuild.builds.approver"
  member   = each.value
}

resource "google_cloudbuild_trigger" "deploy" {
  project         = var.project_id
  location        = var.region
  name            = "deploy-${var.environment}"
  description     = var.tag_pattern == null ? "Test, build and deploy ${var.environment} on every push to ${var.branch_pattern}" : "Test, build and deploy ${var.environment} on a tag ${var.tag_pattern}, after approval"
  service_account = google_service_account.build.id
  filename        = "cloudbuild.yaml"

  repository_event_config {
    repository = var.repository
    push {
      branch = var.tag_pattern == null ? var.branch_pattern : null
      tag    = var.tag_pattern
    }
  }

  approval_config {
    approval_required = var.approval_required
  }

  substitutions = {
    _ENV           = var.environment
    _REGION        = var.region
    _REPOSITORY    = var.registry_url
    _WEBHOOK_URL   = var.webhook_url
    _API_URL       = var.api_url
    _GITHUB_APP_ID = var.github_app_id
    _DEPLOY        = "true"
  }
}
