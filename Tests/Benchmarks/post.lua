-- Sends one POST on every request: the argument after the URL is its JSON body.
-- Usage: wrk … -s post.lua URL BODY
function init(args)
  wrk.method, wrk.body = "POST", args[1]
  wrk.headers["Content-Type"] = "application/json"
end
