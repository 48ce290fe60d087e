-- Each wrk thread sends the lines of LIST/<id> (identity, address and body, tab-separated)
-- as POSTs once each, then stops (or, given "cycle" after LIST, starts over; given "get", as
-- GETs of the URL without the body); counts answers and prints
-- "RESULT <2xx> <others> <seconds> <p50 ms> <p99 ms> <first codes>".
-- Usage: wrk -t T -c C -d D -s lines.lua URL LIST [cycle] [get]
local count, threads = 0, {}
function setup(thread)
  thread:set("id", count)
  count = count + 1
  threads[#threads + 1] = thread
end
function init(args)
  lines, next_line, ok, refused, codes = {}, 1, 0, 0, ""
  cycle, get = args[2] == "cycle" or args[3] == "cycle", args[2] == "get" or args[3] == "get"
  for line in io.lines(args[1] .. "/" .. id) do lines[#lines + 1] = line end
end
function request()
  if cycle and next_line > #lines then next_line = 1 end
  local line = lines[next_line]
  if not line then
    wrk.thread:stop()
    line = lines[#lines]
  end
  next_line = next_line + 1
  local identity, address, body = line:match("^(%S+)\t(%S+)\t(.*)$")
  if get then
    return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. identity, ["X-Forwarded-For"] = address})
  end
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. identity, ["X-Forwarded-For"] = address,
    ["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else
    refused = refused + 1
    if refused <= 3 then codes = codes .. " " .. status .. ":" .. (body:match('"message":"([^"]*)"') or "?") end
  end
end
function done(summary, latency, requests)
  local ok, refused, codes = 0, 0, ""
  for _, thread in ipairs(threads) do
    ok, refused, codes = ok + thread:get("ok"), refused + thread:get("refused"), codes .. thread:get("codes")
  end
  io.write(string.format("RESULT %d %d %.3f %.2f %.2f%s\n", ok, refused, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, codes))
end
