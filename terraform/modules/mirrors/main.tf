# The scanner's repository mirrors (`mirrors/<tenant>/<repository>.tar`): a Cloud Run instance keeps
# nothing, so a fresh one restores the mirror and fetches only what is new. Each scan rewrites its
# object, so an object untouched for 90 days belongs to a repository nobody scans any more.

resource "google_storage_bucket" "mirrors" {
  project                     = var.project_id
  name                        = var.name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = { app = "dashboard" }

  versioning {
    enabled = false
  }

  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_storage_bucket_iam_member" "users" {
  for_each = var.users
  bucket   = google_storage_bucket.mirrors.name
  role     = "roles/storage.objectUser"
  member   = "serviceAccount:${each.value}"
}
