-- wrk script of scripts/bench-api: every request carries the API token, and the summary prints the
-- latency percentiles the issue asks for (p50/p95/p99, in milliseconds) and the non-2xx count.
local token = os.getenv("BENCH_TOKEN")

request = function()
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.3f p95=%.3f p99=%.3f requests=%d non2xx=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
