-- wrk script for the approve round of the change-request benchmark (bench/approve_load.py
-- drives it). Environment: BENCH_APPROVALS (file of prepared approvals, one a line:
-- path <TAB> Authorization header <TAB> version), BENCH_THREADS (wrk's -t).
-- Thread k of n sends lines k, k + n, k + 2n, … once each: an approval sent twice would
-- be refused (409/412) and counted as a failure. When a thread's lines are used up its
-- connections go idle until the end of the run (delay() returns a day), so nothing is
-- resent and nothing else is measured; done() reports how many threads ran out.
-- done() prints one line "BENCH_RESULT {json}": responses, 2xx, non-2xx by status,
-- socket errors and latency percentiles (us).

local BODY = '{"comment":"同意"}'
local IDLE_MS = 24 * 3600 * 1000
local threads = {}
local items = {}
local reserved, taken = 0, 0
ok, failed, ran_out, statuses = 0, 0, 0, {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("index", #threads)
end

function init(args)
  local n, k, i = tonumber(os.getenv("BENCH_THREADS")), index, 0
  for line in io.lines(os.getenv("BENCH_APPROVALS")) do
    if i % n == k - 1 then
      local path, auth, version = line:match("^([^\t]+)\t([^\t]+)\t(%d+)$")
      items[#items + 1] = {path, {["Authorization"] = auth,
        ["Content-Type"] = "application/json", ["If-Match"] = '"' .. version .. '"'}}
    end
    i = i + 1
  end
end

-- Called before every request of a connection: it reserves the approval request() sends.
function delay()
  if reserved == #items then
    ran_out = 1
    return IDLE_MS
  end
  reserved = reserved + 1
  return 0
end

function request()
  if taken == reserved then
    -- wrk's check of the script before the run (no delay() before it): never sent.
    return wrk.format("GET", "/healthz")
  end
  taken = taken + 1
  local item = items[taken]
  return wrk.format("POST", item[1], item[2], BODY)
end

function response(status)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    failed = failed + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total, merged, by_status = {ok = 0, failed = 0, ran_out = 0}, {}, {}
  for _, thread in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + thread:get(key) end
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  for status, count in pairs(merged) do
    by_status[#by_status + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "ok": %d, "non_2xx": %d, "statuses": {%s}, ' ..
    '"ran_out": %d, "duration_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, total.ok, total.failed, table.concat(by_status, ", "), total.ran_out,
    summary.duration, e.connect, e.read, e.write, e.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
