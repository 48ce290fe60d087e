-- Buyers for wrk, one connection per thread (so that a thread times each of its requests).
-- Thread <id> sends one order per line of LIST/<id> ("<identity JWT> <order token>"), each
-- line once, until its list ends or SECONDS (0: no limit) have passed; then it waits for the
-- answer in flight, writes "status code user sent_us latency_us" per answer to OUT/<id> and
-- stops. delay() hands out the lines, so a connection that has none left sends nothing more.
-- A 5xx without Cache-Control (which every function answer carries) is lighttpd's own error
-- page, not the function's: its code is written as "<code>-server". MODE after OUT: nothing, the next buyer at once after any
-- answer; "retry", a buyer answered with a Retry-After sends again at once; "honour", it
-- waits that long (plus up to 250 ms, as the storefront does) and sends again.
-- Usage: wrk -t N -c N -d D -s buyers.lua ORDER_URL LIST SALE SECONDS OUT [MODE]
local ffi = require "ffi"
ffi.cdef [[
  struct fs_timeval { long tv_sec; long tv_usec; };
  int gettimeofday(struct fs_timeval *, void *);
]]
local tv = ffi.new("struct fs_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local count = 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  sale, seconds, out, mode = args[2], tonumber(args[3]), args[4], args[5] or ""
  math.randomseed(id * 7919 + 1)
  pause, again, retries = 0, false, 0
  lines = {}
  for line in io.lines(args[1] .. "/" .. id) do lines[#lines + 1] = line end
  reserved, sent, resends, inflight = 0, 0, 0, 0
  results, started, deadline, closed, finished = {}, 0, nil, false, false
end

local function build(line)
  local identity, token = line:match("^(%S+) (%S+)$")
  local body = '{"sale":"' .. sale .. '","token":"' .. token .. '"}'
  return "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
    "\r\nAuthorization: Bearer " .. identity .. "\r\nContent-Type: application/json\r\nContent-Length: " ..
    #body .. "\r\n\r\n" .. body
end

local function finish()
  if finished then return end
  finished = true
  results[#results + 1] = string.format("# sent %d resends %d lines %d retries %d", sent, resends, #lines, retries)
  local file = io.open(out .. "/." .. id, "w")
  file:write(table.concat(results, "\n"), "\n")
  file:close()
  os.rename(out .. "/." .. id, out .. "/" .. id)
  wrk.thread:stop()
end

function delay()
  local now = now_us()
  deadline = deadline or (seconds > 0 and now + seconds * 1000000 or math.huge)
  if not closed and (again or reserved < #lines) and now < deadline then
    if not again then reserved = reserved + 1 end
    local wait = pause
    pause = 0
    return wait
  end
  closed = true
  if inflight == 0 then finish() end
  return 3600000
end

function request()
  if again then
    again = false
    retries = retries + 1 -- the same buyer again after a Retry-After
    inflight = inflight + 1
  elseif sent < reserved then
    sent = sent + 1
    inflight = inflight + 1
    last = build(lines[sent])
  elseif sent == 0 then
    return build(lines[1]) -- wrk parses one request before the threads start: not sent
  else
    resends = resends + 1 -- the same request again on a new connection after a socket error
  end
  started = now_us()
  return last
end

function response(status, headers, body)
  local latency = now_us() - started
  inflight = inflight - 1
  local code = body:match('"code":"([^"]*)"') or "-"
  local retry_after = tonumber(headers["Retry-After"] or "")
  if status >= 500 and not headers["Cache-Control"] then code = code .. "-server" end
  if retry_after and mode ~= "" then
    again = true
    if mode == "honour" then pause = retry_after * 1000 + math.random(0, 250) end
  end
  local user = status == 201 and body:match('"user":"([^"]*)"') or "-"
  results[#results + 1] = string.format("%d %s %s %d %d", status, code, user, started, latency)
  if closed and inflight == 0 then finish() end
end
