-- Requests for bench/bench_scale.py: wrk picks a random line of $WRK_REQUESTS per request.
-- A line is METHOD<TAB>PATH[<TAB>JSON BODY]; every request carries `X-Api-Key: $WRK_KEY`.
-- At the end it prints one JSON line: latency percentiles (ms), requests/s and error counts.

local lines = {}
local headers = { ["X-Api-Key"] = os.getenv("WRK_KEY"), ["Content-Type"] = "application/json" }

function init(args)
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    table.insert(lines, { method = method, path = path, body = body ~= "" and body or nil })
  end
  -- Each thread draws its own sequence: seeded by its own table's address, not only the clock.
  math.randomseed(os.time() + tonumber(tostring(lines):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local r = lines[math.random(#lines)]
  return wrk.format(r.method, r.path, headers, r.body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, '
      .. '"max_ms": %.2f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout
  ))
end
