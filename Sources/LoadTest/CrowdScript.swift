/// The wrk script a crowd runs. Each wrk thread has one connection and plays the buyers of its
/// list one after another as the page does: `POST /api/token`, then `GET /api/precheck` (whose
/// `busy` a buyer with a token passes by), then the order URL the token revealed. `busy`, `rate_limited` and other 5xx answers are waited
/// out (their `Retry-After`, else a back-off from 0.5 s doubling, with jitter) and tried again,
/// keeping a token in hand, at most 5 times; any other refusal ends the buyer's turn. A wait
/// is at most 4 s, where the page waits up to 60: lighttpd closes a connection idle for 5 s,
/// and wrk, reconnecting during a delay, sends the next request twice.
/// A bot's line (`bot <identity>`) plays its one account again and again, never waiting, up
/// to the bot round limit. Every 250 ms a thread
/// prints `P <thread> <answers> <orders> <buyers done> [<code>=<count> …]` (its refusals so
/// far; flushed, one `write` each); when its
/// list ends or the time is up it writes one `<kind> <step> <status> <code> <start µs>
/// <latency µs>` line per answer to `<out>/<thread>` and stops.
///
/// Arguments after the URL: the folder of lists, the sale, the seconds allowed, the bot rounds
/// and the folder for the records.
enum CrowdScript {
    static let lua = #"""
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

        local threads = 0
        function setup(thread)
          thread:set("id", threads)
          threads = threads + 1
        end

        function init(args)
          lists, sale, seconds, bot_rounds, out = args[1], args[2], tonumber(args[3]), tonumber(args[4]), args[5]
          math.randomseed(os.time() * 1000 + id)
          host = wrk.headers["Host"]
          buyers = {}
          for line in io.lines(lists .. "/" .. id) do buyers[#buyers + 1] = line end
          records, answers, orders, done, refusals = {}, 0, 0, 0, {}
          current, step, rounds, inflight, finished = 0, nil, 0, false, false
          retries, wait_until, has_token = 0, 0, false
          deadline, reported = nil, 0
          next_buyer()
        end

        function next_buyer()
          current = current + 1
          local line = buyers[current]
          if line == nil or (deadline and now_us() >= deadline) then
            step = nil
            return
          end
          kind, identity = "h", line
          local bot = line:match("^bot (%S+)$")
          if bot then kind, identity = "b", bot end
          step, rounds, retries, has_token = "token", (kind == "b") and bot_rounds or 1, 0, false
        end

        -- Written out rather than through wrk.format, which costs a crowd a tenth of its rate.
        local function build()
          local head = "\r\nHost: " .. host .. "\r\nAuthorization: Bearer " .. identity
          if step == "precheck" then
            return "GET /api/precheck?sale=" .. sale .. " HTTP/1.1" .. head .. "\r\n\r\n"
          end
          local path, body = "/api/token", '{"sale":"' .. sale .. '"}'
          if step == "order" then path, body = order_url, '{"sale":"' .. sale .. '","token":"' .. token .. '"}' end
          return "POST " .. path .. " HTTP/1.1" .. head .. "\r\nContent-Type: application/json\r\nContent-Length: " ..
            #body .. "\r\n\r\n" .. body
        end

        local function finish()
          if finished then return end
          finished = true
          local file = io.open(out .. "/." .. id, "w")
          file:write(table.concat(records, "\n"), "\n")
          file:close()
          os.rename(out .. "/." .. id, out .. "/" .. id)
          wrk.thread:stop()
        end

        function delay()
          if step == nil and not inflight then finish() return 3600000 end
          local wait = wait_until - now_us()
          return wait > 0 and math.floor(wait / 1000) or 0
        end

        function request()
          if buyers == nil then -- wrk's own check of the script, before the threads start
            return wrk.format("GET", "/api/precheck")
          end
          deadline = deadline or now_us() + seconds * 1000000
          if step == nil then return last or wrk.format("GET", "/api/precheck") end
          if not inflight then
            inflight, started, last = true, now_us(), build()
          end
          return last
        end

        local function buyer_done()
          rounds = rounds - 1
          if rounds > 0 and not (deadline and now_us() >= deadline) then
            step, has_token = "token", false
          else
            done = done + 1
            next_buyer()
          end
        end

        -- The wait before trying again: Retry-After plus up to 250 ms, else 0.5 s doubling per
        -- retry times 0.5 to 1.5; at most 4 s.
        local function retry_wait_us(headers)
          local after = tonumber(headers["Retry-After"] or headers["retry-after"] or "")
          local wait = after and after > 0 and after * 1000000 + math.random(0, 250000)
            or 500000 * 2 ^ (retries - 1) * (0.5 + math.random())
          return math.min(wait, 4000000)
        end

        function response(status, headers, body)
          local now = now_us()
          if not inflight then return end -- an answer to a request sent twice: counted once
          inflight = false
          answers = answers + 1
          local code = body:match('"code":"([^"]*)"') or body:match('"reason":"([^"]*)"')
          if status < 300 and code == nil then code = "ok" end
          if code ~= "ok" then
            local key = (code or tostring(status)):gsub("[%s=]", "_")
            refusals[key] = (refusals[key] or 0) + 1
          end
          records[#records + 1] = string.format("%s %s %d %s %d %d", kind, step, status, code or "-", started,
            now - started)
          local again = status == 429 or status >= 500 or (status == 200 and code == "busy")
          if step == "token" and status == 200 then
            token, order_url = body:match('"token":"([^"]+)"'), body:match('"orderUrl":"([^"]+)"')
            step, has_token = "precheck", true
          elseif step == "precheck" and (body:match('"ok":true') or code == "busy") then
            step = "order" -- a busy window does not hold back a buyer with a token, as on the page
          elseif again and kind == "h" and retries < 5 then
            retries = retries + 1
            wait_until = now + retry_wait_us(headers)
            if wait_until >= deadline then
              wait_until = 0
              done = done + 1
              next_buyer()
            else
              step = has_token and "precheck" or "token"
            end
          else
            if step == "order" and status == 201 then orders = orders + 1 end
            buyer_done()
          end
          if now - reported >= 250000 or step == nil then
            reported = now
            local line = { "P", id, answers, orders, done }
            for key, count in pairs(refusals) do line[#line + 1] = key .. "=" .. count end
            io.write(table.concat(line, " "), "\n")
            io.stdout:flush()
          end
        end
        """#
}
