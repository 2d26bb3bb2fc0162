-- wrk script for the three customer reads (bench/run.py drives it).
-- Environment: BENCH_TOKEN (bearer token), BENCH_KIND (one | page | search),
-- BENCH_IDS (file of customer ids, one a line), BENCH_TERMS (comma-separated,
-- percent-encoded search terms), BENCH_TIERS (comma-separated tiers for the page).
-- done() prints one line "BENCH_RESULT {json}" with counts and latency percentiles (us).

local kind = os.getenv("BENCH_KIND")
local ids, terms, tiers = {}, {}, {}
local counter = 0

local function split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do out[#out + 1] = item end
  return out
end

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  wrk.headers["Accept"] = "application/json"
  if kind == "one" then
    for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  end
  terms = split(os.getenv("BENCH_TERMS"))
  tiers = split(os.getenv("BENCH_TIERS"))
end

function request()
  local path
  if kind == "one" then
    path = "/api/v1/customers/" .. ids[math.random(#ids)]
  elseif kind == "page" then
    path = "/api/v1/customers?limit=50&tier=" .. tiers[math.random(#tiers)] ..
      "&sort=-updated_at"
  else
    path = "/api/v1/customers?q=" .. terms[math.random(#terms)] .. "&limit=50"
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
