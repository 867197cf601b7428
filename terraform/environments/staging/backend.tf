# State in a GCS bucket of this environment's project (created once by hand, docs/deploy.md); the
# bucket is given at init: terraform init -backend-config="bucket=PROJECT-tfstate".
terraform {
  backend "gcs" {
    prefix = "dashboard/staging"
  }
}
