# The estate's numeric invariants, in a module without providers so that `terraform test` and
# `terraform plan` run anywhere (scripts/test runs both offline). The estate calls it with the
# environment's numbers, so a real plan fails on the same rules.
#
# The connection budget: every instance of every service may hold its whole pool at once, and so may
# every job that can run beside them; together they must stay within 80% of PostgreSQL's
# max_connections, leaving the rest to migrations, operators and Cloud SQL's own connections.

terraform {
  required_version = ">= 1.6"
}

locals {
  service_connections = {
    for name, s in var.services : name => s.max_instances * (s.pool_size + s.listeners)
  }
  job_connections = { for name, j in var.jobs : name => j.pool_size }
  connections_used = (
    sum(concat([0], values(local.service_connections))) +
    sum(concat([0], values(local.job_connections)))
  )
  connections_limit = floor(var.database.max_connections * var.budget_ratio)
  breakdown = join(", ", concat(
    [for name, s in var.services : "${name} ${s.max_instances}x${s.pool_size + s.listeners}"],
    [for name, j in var.jobs : "${name} ${j.pool_size}"],
  ))
  consumers_missing = [for name, q in var.queues : "${name} -> ${q.consumer}" if !contains(keys(var.services), q.consumer)]
  # A push consumer holds one connection for the claim of each job it runs (the job row stays
  # locked in that transaction until the job ends, shared::jobs) and takes another for the job's
  # own work: with fewer than two per concurrent push, a full instance waits on its own pool.
  consumer_pools_short = [
    for name, q in var.queues : "${q.consumer}: pool ${try(var.services[q.consumer].pool_size, "?")} < 2 x concurrency ${try(var.services[q.consumer].concurrency, "?")}"
    if try(var.services[q.consumer].pool_size < 2 * var.services[q.consumer].concurrency, false)
  ]
  timeouts_mismatched = [
    for name, q in var.queues : "${name}: ${q.consumer} timeout ${try(var.services[q.consumer].timeout_seconds, "?")}s, ack deadline ${q.ack_deadline_seconds}s"
    if try(var.services[q.consumer].timeout_seconds, q.ack_deadline_seconds) != q.ack_deadline_seconds
  ]
}

resource "terraform_data" "connection_budget" {
  input = local.connections_used
  lifecycle {
    precondition {
      condition     = local.connections_used <= local.connections_limit
      error_message = "${var.environment}: the connection budget is exceeded: ${local.connections_used} connections (${local.breakdown}) > ${local.connections_limit} (max_connections ${var.database.max_connections} x ${var.budget_ratio}). Lower max instances or pool sizes, or raise the database tier."
    }
  }
}

resource "terraform_data" "queue_consumers" {
  input = keys(var.queues)
  lifecycle {
    precondition {
      condition     = length(local.consumers_missing) == 0
      error_message = "${var.environment}: queues consumed by no service: ${join(", ", local.consumers_missing)}."
    }
    # For push, the ack deadline is the request timeout: a shorter service timeout cuts requests
    # Pub/Sub still waits for, a longer one buys nothing.
    precondition {
      condition     = length(local.timeouts_mismatched) == 0
      error_message = "${var.environment}: a consumer's request timeout must equal its subscription's ack deadline: ${join("; ", local.timeouts_mismatched)}."
    }
    precondition {
      condition     = length(local.consumer_pools_short) == 0
      error_message = "${var.environment}: a queue consumer needs two connections per concurrent push (the job's claim and its work): ${join("; ", local.consumer_pools_short)}."
    }
  }
}
