terraform {
  required_version = ">= 1.6"
  required_providers {
    # 6.8 added google_cloud_run_v2_service.invoker_iam_disabled (modules/service).
    google = {
      source  = "hashicorp/google"
      version = ">= 6.8, < 8"
    }
  }
}
