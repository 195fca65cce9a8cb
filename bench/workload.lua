-- wrk script for the benchmark's workloads (bench/workloads.py defines them; bench/load.py runs wrk).
-- Arguments after `--`: mode api_key create_key list_path retrieve_path create_path create_body mixed_cycle
--   mode is list | retrieve | create | mixed; mixed_cycle is a comma-separated list of request kinds.
-- Requests are formatted once in init(); request() only walks the cycle.
-- done() prints one line `BENCH_JSON {...}` with the counts and latency percentiles (microseconds).

local cycle = {}
local n = 0

function init(args)
  local mode, key, create_key, list_path, retrieve_path, create_path, body, mixed = unpack(args)
  local function auth()
    return { ["Authorization"] = "Bearer " .. key }
  end
  local json = { ["Authorization"] = "Bearer " .. create_key, ["Content-Type"] = "application/json" }
  local requests = {
    list = wrk.format("GET", list_path, auth()),
    retrieve = wrk.format("GET", retrieve_path, auth()),
    create = wrk.format("POST", create_path, json, body),
  }
  if mode == "mixed" then
    for kind in string.gmatch(mixed, "[^,]+") do
      table.insert(cycle, requests[kind])
    end
  else
    cycle = { requests[mode] }
  end
  if #cycle == 0 or cycle[1] == nil then
    error("workload.lua: unknown mode " .. tostring(mode))
  end
end

function request()
  n = n % #cycle + 1
  return cycle[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %.0f, "p90": %.0f, "p99": %.0f, "mean": %.1f, "max": %.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max
  ))
end
