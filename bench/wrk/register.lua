-- POST /api/v1/services/register with a UNIQUE service name per request
-- (prefix from the command line + wrk thread id + per-thread counter), so every
-- request creates a new record instead of re-registering one.
-- Usage: wrk ... -s register.lua <url> -- <prefix>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end

local counter = 0
local prefix = "svc"
local headers = { ["Content-Type"] = "application/json" }
local types = { "http", "http", "http", "grpc", "tcp" }

function init(args)
  prefix = args[1] or "svc"
end

function request()
  counter = counter + 1
  local n = counter
  local body = string.format(
    '{"name":"%s-t%d-%d","type":"%s","host":"10.%d.%d.%d","port":8080,"tags":["bench","zone-%d"],' ..
    '"metadata":{"env":"bench","rack":"r%d"},"ttl":300}',
    prefix, tid, n, types[(math.floor(n / 20) % 5) + 1], tid % 256, math.floor(n / 256) % 256, n % 256,
    n % 5, math.floor(n / 5) % 4)
  return wrk.format("POST", "/api/v1/services/register", headers, body)
end
