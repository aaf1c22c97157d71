-- wrk script for the token endpoint: client_credentials requests with client_secret_post, round-robin
-- over the agents of a credentials file (one "client_id,client_secret" line each), named as the first
-- script argument or by BENCH_CREDENTIALS:
--
--   wrk -t2 -c32 -d15s --latency -s bench/token.lua http://127.0.0.1:5000/api/v1/token -- agents.csv
--
-- done() prints one line for the bench to read:
--   BENCH_RESULT {"requests":…,"duration_us":…,"latency_p50_us":…,"latency_p99_us":…,"non2xx":…,
--                 "errors":{"connect":…,"read":…,"write":…,"timeout":…,"total":…},"statuses":{"200":…}}
-- non2xx counts every answer that is not 2xx: wrk's own errors.status counts only statuses above 399.

local threads = {}

-- Runs in the main Lua state, once per thread, before that thread's init().
function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

-- The thread's starting point in (0, 1]: 0, 1/2, 1/4, 3/4, 1/8, … (van der Corput). A thread does not know
-- how many threads there will be, and this spreads any number of them evenly enough over the agents.
local function spread(index)
  local fraction, scale = 0, 0.5
  while index > 0 do
    if index % 2 == 1 then fraction = fraction + scale end
    index = math.floor(index / 2)
    scale = scale / 2
  end
  return fraction
end

local function form_encode(value)
  return (value:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local prepared = {}
local position = 0
non2xx = 0
statuses = {}

function init(args)
  local path = args[1] or os.getenv("BENCH_CREDENTIALS")
  if not path then
    error("token.lua: name the credentials file as the script argument (-- FILE) or in BENCH_CREDENTIALS")
  end
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for line in io.lines(path) do
    local client_id, secret = line:match("^([^,]+),(.+)$")
    if client_id then
      local body = "grant_type=client_credentials&client_id=" .. form_encode(client_id) ..
        "&client_secret=" .. form_encode(secret)
      -- Formatted once: the request of each agent is the same every time.
      table.insert(prepared, wrk.format("POST", nil, headers, body))
    end
  end
  if #prepared == 0 then
    error("token.lua: no client_id,client_secret lines in " .. path)
  end
  position = math.floor(#prepared * spread(index))
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total_non2xx, all_statuses = 0, {}
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      all_statuses[status] = (all_statuses[status] or 0) + count
    end
  end
  local counted = {}
  for status, count in pairs(all_statuses) do
    table.insert(counted, string.format('"%d":%d', status, count))
  end
  table.sort(counted)
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"latency_p50_us":%d,"latency_p99_us":%d,' ..
    '"latency_max_us":%d,"non2xx":%d,"status_over_399":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"total":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), math.floor(latency.max),
    total_non2xx, errors.status,
    errors.connect, errors.read, errors.write, errors.timeout, socket_errors,
    table.concat(counted, ",")))
end
