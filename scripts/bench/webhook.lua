-- wrk script for scripts/bench-webhook: POSTs one signed push payload with a fresh
-- X-GitHub-Delivery per request (a duplicate would be acknowledged without being stored).
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = file:read("*a")
file:close()

local counter = 0
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Hook-Installation-Target-Type"] = "integration",
    ["X-Hub-Signature-256"] = os.getenv("BENCH_SIGNATURE"),
    ["X-GitHub-Delivery"] = string.format("%08x-0000-4000-8000-%012x", thread_id, counter),
  }
  return wrk.format("POST", "/webhooks/github", headers, body)
end
