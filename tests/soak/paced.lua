-- wrk script for an open-loop load: each thread sends at a fixed rate on a schedule kept by the
-- clock (a late answer does not slow the schedule while connections are free); at the end it
-- writes the event id of every 2xx answer to the file IDS, one per line, and prints a line
-- "status <code> <count>" per status. Set by the caller: RATE (requests/s per thread), IDS, BODY.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } er_timespec;
int clock_gettime(int clk, er_timespec *tp);
]]
local ts = ffi.new("er_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  interval = 1000 / RATE
  t0 = now_ms()
  n = 0
  statuses = {}
  ids = {}
  wrk.method = "POST"
  wrk.body = BODY
  wrk.headers["content-type"] = "application/json"
end

function delay()
  n = n + 1
  local d = t0 + n * interval - now_ms()
  if d < 0 then return 0 end
  return math.floor(d)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    local event = body:match('"id":"(evt_[%w]+)"')
    if event then ids[#ids + 1] = event end
  end
end

function done(summary, latency, requests)
  local out = io.open(IDS, "w")
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("statuses")) do
      io.write(string.format("status %d %d\n", code, count))
    end
    for _, event in ipairs(t:get("ids")) do out:write(event, "\n") end
  end
  out:close()
end
