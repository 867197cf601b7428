output "alert_policies" {
  description = "Every alert policy's display name."
  value = concat(
    [for p in google_monitoring_alert_policy.error_ratio : p.display_name],
    [for p in google_monitoring_alert_policy.latency : p.display_name],
    [for p in google_monitoring_alert_policy.dead_letters : p.display_name],
    [for p in google_monitoring_alert_policy.oldest_unacked : p.display_name],
    [for p in google_monitoring_alert_policy.database : p.display_name],
    [
      google_monitoring_alert_policy.webhook_signature_failures.display_name,
      google_monitoring_alert_policy.jobs_stuck.display_name,
      google_monitoring_alert_policy.resync_failed.display_name,
    ],
  )
}
