# The policy's rules, each with a case that passes and a case that must fail. A baseline shaped like
# prod; each failing run changes one number.

variables {
  environment = "test"
  database = {
    max_connections                = 200
    transaction_log_retention_days = 7
    retained_backups               = 8
  }
  services = {
    webhook = { max_instances = 5, concurrency = 80, pool_size = 4, timeout_seconds = 10 }
    api     = { max_instances = 8, concurrency = 80, pool_size = 10, timeout_seconds = 30 }
    scanner = { max_instances = 5, concurrency = 2, pool_size = 4, timeout_seconds = 600 }
    linker  = { max_instances = 4, concurrency = 3, pool_size = 6, timeout_seconds = 120 }
  }
  jobs = {
    migrate   = { pool_size = 2 }
    reconcile = { pool_size = 2 }
    purge     = { pool_size = 2 }
    poll-due  = { pool_size = 2 }
    resync    = { pool_size = 2 }
  }
  queues = {
    scan = { consumer = "scanner", ack_deadline_seconds = 600, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
    link = { consumer = "linker", ack_deadline_seconds = 120, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
  }
}

run "the_baseline_fits_its_budget" {
  command = plan

  assert {
    condition     = output.connections_used == 5 * 4 + 8 * 10 + 5 * 4 + 4 * 6 + 5 * 2
    error_message = "connections_used sums max instances x pool size per service, plus the jobs' pools"
  }
  assert {
    condition     = output.connections_limit == 160
    error_message = "the budget is 80% of max_connections"
  }
}

run "one_connection_over_the_budget_fails" {
  command = plan
  variables {
    database = { max_connections = 192, transaction_log_retention_days = 7, retained_backups = 8 }
  }
  # 154 used, floor(192 x 0.8) = 153: one over.
  expect_failures = [terraform_data.connection_budget]
}

run "a_budget_exactly_full_is_allowed" {
  command = plan
  variables {
    database = { max_connections = 193, transaction_log_retention_days = 7, retained_backups = 8 }
  }
  # floor(193 x 0.8) = 154.
  assert {
    condition     = output.connections_used == output.connections_limit
    error_message = "the baseline uses exactly 154 of 154"
  }
}

run "more_api_instances_exceed_the_budget" {
  command = plan
  variables {
    services = {
      webhook = { max_instances = 5, concurrency = 80, pool_size = 4, timeout_seconds = 10 }
      api     = { max_instances = 20, concurrency = 80, pool_size = 10, timeout_seconds = 30 }
      scanner = { max_instances = 5, concurrency = 2, pool_size = 4, timeout_seconds = 600 }
      linker  = { max_instances = 4, concurrency = 3, pool_size = 6, timeout_seconds = 120 }
    }
  }
  expect_failures = [terraform_data.connection_budget]
}

run "unbounded_max_instances_are_refused" {
  command = plan
  variables {
    services = {
      webhook = { max_instances = 1000, concurrency = 80, pool_size = 1, timeout_seconds = 10 }
      api     = { max_instances = 1, concurrency = 80, pool_size = 1, timeout_seconds = 30 }
      scanner = { max_instances = 1, concurrency = 2, pool_size = 1, timeout_seconds = 600 }
      linker  = { max_instances = 1, concurrency = 10, pool_size = 1, timeout_seconds = 120 }
    }
  }
  expect_failures = [var.services]
}

run "a_pool_larger_than_twice_the_concurrency_is_refused" {
  command = plan
  variables {
    services = {
      webhook = { max_instances = 5, concurrency = 80, pool_size = 4, timeout_seconds = 10 }
      api     = { max_instances = 8, concurrency = 80, pool_size = 10, timeout_seconds = 30 }
      scanner = { max_instances = 5, concurrency = 2, pool_size = 5, timeout_seconds = 600 }
      linker  = { max_instances = 4, concurrency = 3, pool_size = 6, timeout_seconds = 120 }
    }
  }
  expect_failures = [var.services]
}

# The linker as first configured: 10 pushes at once, 5 connections. Each push holds one for its
# claim, so the jobs' own work waits on a pool that never frees.
run "a_consumer_pool_below_two_connections_per_push_is_refused" {
  command = plan
  variables {
    services = {
      webhook = { max_instances = 5, concurrency = 80, pool_size = 4, timeout_seconds = 10 }
      api     = { max_instances = 8, concurrency = 80, pool_size = 10, timeout_seconds = 30 }
      scanner = { max_instances = 5, concurrency = 2, pool_size = 4, timeout_seconds = 600 }
      linker  = { max_instances = 5, concurrency = 10, pool_size = 5, timeout_seconds = 120 }
    }
  }
  expect_failures = [terraform_data.queue_consumers]
}

# The same numbers are fine for a service that consumes no queue (one connection per request).
run "a_pool_below_twice_the_concurrency_is_fine_outside_the_consumers" {
  command = plan
  variables {
    services = {
      webhook = { max_instances = 5, concurrency = 10, pool_size = 5, timeout_seconds = 10 }
      api     = { max_instances = 8, concurrency = 80, pool_size = 10, timeout_seconds = 30 }
      scanner = { max_instances = 5, concurrency = 2, pool_size = 4, timeout_seconds = 600 }
      linker  = { max_instances = 4, concurrency = 3, pool_size = 6, timeout_seconds = 120 }
    }
  }
  assert {
    condition     = output.connections_used == 5 * 5 + 8 * 10 + 5 * 4 + 4 * 6 + 5 * 2
    error_message = "planned"
  }
}

run "a_pool_above_the_functions_range_is_refused" {
  command = plan
  variables {
    jobs = { migrate = { pool_size = 101 } }
  }
  expect_failures = [var.jobs]
}

run "an_ack_deadline_above_600_is_refused" {
  command = plan
  variables {
    queues = {
      scan = { consumer = "scanner", ack_deadline_seconds = 900, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
    }
  }
  expect_failures = [var.queues]
}

run "fewer_than_five_delivery_attempts_are_refused" {
  command = plan
  variables {
    queues = {
      link = { consumer = "linker", ack_deadline_seconds = 120, max_delivery_attempts = 3, min_backoff_seconds = 10, max_backoff_seconds = 600 }
    }
  }
  expect_failures = [var.queues]
}

run "a_backoff_beyond_600_seconds_is_refused" {
  command = plan
  variables {
    queues = {
      link = { consumer = "linker", ack_deadline_seconds = 120, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 900 }
    }
  }
  expect_failures = [var.queues]
}

run "a_consumer_timeout_other_than_its_ack_deadline_is_refused" {
  command = plan
  variables {
    queues = {
      scan = { consumer = "scanner", ack_deadline_seconds = 300, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
    }
  }
  expect_failures = [terraform_data.queue_consumers]
}

run "a_queue_without_a_consumer_service_is_refused" {
  command = plan
  variables {
    queues = {
      scan = { consumer = "indexer", ack_deadline_seconds = 600, max_delivery_attempts = 5, min_backoff_seconds = 10, max_backoff_seconds = 600 }
    }
  }
  expect_failures = [terraform_data.queue_consumers]
}

run "wal_retention_beyond_seven_days_is_refused" {
  command = plan
  variables {
    database = { max_connections = 200, transaction_log_retention_days = 14, retained_backups = 15 }
  }
  expect_failures = [var.database]
}

run "fewer_backups_than_days_of_wal_are_refused" {
  command = plan
  variables {
    database = { max_connections = 200, transaction_log_retention_days = 7, retained_backups = 7 }
  }
  expect_failures = [var.database]
}
