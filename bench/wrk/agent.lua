-- wrk script for bench/http_load.py: spreads requests over the registered agents, carries the client token and
-- the agent v4 bodies (agent-v4-wire.md §3.2, §3.6), counts every status, and prints one JSON line at the end.
-- Configured through the environment, read when each thread's Lua state loads this file:
--   WRK_ROUTE   heartbeat | pricing | health
--   WRK_AGENTS  file with one "<agent_id> <instance_id>" per line (not needed for health)
--   WRK_TOKEN   the agents' client token
--   WRK_RATE    requests/s for the whole run (paced run; 0 or unset: as fast as possible)
--   WRK_THREADS the -t value (the rate is split over the threads)
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function seconds()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local route = os.getenv("WRK_ROUTE") or "health"
local token = os.getenv("WRK_TOKEN") or ""
local rate = tonumber(os.getenv("WRK_RATE") or "0") or 0
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1") or 1
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
  ["User-Agent"] = "python-requests/2.31.0",
}
local agents = {}
local threads = {}
local n = 0
local thread_id = 0
statuses = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tonumber(wrk.thread:get("thread_id") or 0) or 0
  n = thread_id * 7919
  if route ~= "health" then
    for line in io.lines(os.getenv("WRK_AGENTS")) do
      local agent, instance = line:match("(%S+)%s+(%S+)")
      if agent then agents[#agents + 1] = { agent, instance } end
    end
  end
end

local HEARTBEAT = '{"status":"online","monitored_instances":["%s"],"instance_id":"%s",'
  .. '"instance_type":"t3.medium","mode":"spot","az":"us-east-1a"}'
local POOL = '{"pool_id":"t3.medium.us-east-1%s","instance_type":"t3.medium","az":"us-east-1%s","price":%s}'
local PRICES = { a = "0.0125", b = "0.0118", c = "0.0131", d = "0.0112", e = "0.0139", f = "0.0127" }
local POOLS = {}
for _, z in ipairs({ "a", "b", "c", "d", "e", "f" }) do POOLS[#POOLS + 1] = string.format(POOL, z, z, PRICES[z]) end
local PRICING = '{"instance":{"instance_id":"%s","instance_type":"t3.medium","region":"us-east-1","az":"us-east-1a",'
  .. '"mode":"spot","pool_id":"t3.medium.us-east-1a"},"pricing":{"on_demand_price":0.0416,"current_spot_price":0.0125,'
  .. '"cheapest_pool":{"pool_id":"t3.medium.us-east-1d","price":0.0112},"spot_pools":[' .. table.concat(POOLS, ",")
  .. '],"collected_at":"%s"}}'

function request()
  n = n + 1
  if route == "health" then
    return wrk.format("GET", "/health", { ["User-Agent"] = headers["User-Agent"] })
  end
  local agent = agents[(n % #agents) + 1]
  if route == "heartbeat" then
    return wrk.format("POST", "/api/agents/" .. agent[1] .. "/heartbeat", headers,
      string.format(HEARTBEAT, agent[2], agent[2]))
  end
  -- a unique collected_at per request, so every report inserts its submissions (PR-4 keys on it)
  local collected = os.date("!%Y-%m-%dT%H:%M:%S", os.time())
    .. string.format(".%06d+00:00", (n * 16 + thread_id) % 1000000)
  return wrk.format("POST", "/api/agents/" .. agent[1] .. "/pricing-report", headers,
    string.format(PRICING, agent[2], collected))
end

if rate > 0 then
  -- Pacing without wrk2: each thread hands out send slots at rate/threads per second; a connection waits for its
  -- slot. Open-loop only while idle connections remain (coordinated omission otherwise).
  local interval = nthreads / rate
  local next_slot = nil
  function delay()
    local now = seconds()
    if next_slot == nil or next_slot < now then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval
    return wait * 1000
  end
end

function response(status, _, _)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, _)
  local codes = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    if counted then
      for code, count in pairs(counted) do codes[code] = (codes[code] or 0) + count end
    end
  end
  local parts = {}
  for code, count in pairs(codes) do parts[#parts + 1] = string.format('"%d":%d', code, count) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d},"statuses":{%s},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ","), latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
