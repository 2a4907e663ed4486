-- wrk script of bench/soak.py: paced POSTs that stop before wrk does, so none is cut off in flight.
-- env: BENCH_BODY (path of the JSON body), SOAK_PAUSE_MS (mean pause before each request of a
-- connection; uniform over 0..2x, so connections drift apart), SOAK_STOP_AT (epoch second after
-- which no connection starts another pause). Prints one RESULT line.
local handle = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = handle:read("*a")
handle:close()
wrk.headers["Content-Type"] = "application/json"

local pause = assert(tonumber(os.getenv("SOAK_PAUSE_MS")))
local stop_at = assert(tonumber(os.getenv("SOAK_STOP_AT")))
local threads = {}
sent = 0
non2xx = 0

setup = function(thread)
  table.insert(threads, thread)
end

init = function()
  math.randomseed(os.time())
end

delay = function()
  if os.time() >= stop_at then
    return 3600000 -- idle until wrk's own end
  end
  return math.random() * 2 * pause
end

request = function()
  sent = sent + 1
  return wrk.format()
end

response = function(status)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

done = function(summary, latency, requests)
  -- wrk calls the first thread's request() once more to check it before sending anything
  local total_sent, total_non2xx = -1, 0
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_non2xx = total_non2xx + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d sent=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f non2xx=%d "
      .. "connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, total_sent, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, total_non2xx, e.connect, e.read, e.write, e.timeout, e.status))
end
