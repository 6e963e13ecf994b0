-- wrk script for `make bench-serve` (Benchmarks/bench_serve.py): POSTs /v1/moderate with request bodies
-- read from a file (one JSON body a line; the bench writes it at run time from the corpus, it is never
-- committed), cycled, and counts responses by HTTP status so a 503 from a full queue shows as itself.
--   wrk -t2 -c16 -d30s -s Benchmarks/bench_serve.lua http://127.0.0.1:PORT -- BODIES_FILE
-- done() prints one line, "bench_serve.lua {…}", that the bench parses.

local bodies = {}
local next_body = 0
statuses = {}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  -- Each thread starts at its own place so two threads do not send the same message in step.
  next_body = math.random(#bodies) - 1
  wrk.method = "POST"
  wrk.path = "/v1/moderate"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses") or {}) do
      merged[key] = (merged[key] or 0) + count
    end
  end
  local status_parts = {}
  for key, count in pairs(merged) do
    status_parts[#status_parts + 1] = string.format('"%s":%d', key, count)
  end
  local e = summary.errors
  io.write(string.format(
    'bench_serve.lua {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p99.9":%d,"max":%d,"mean":%.1f},"statuses":{%s}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, table.concat(status_parts, ",")))
end
