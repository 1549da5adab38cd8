-- POST /api/v1/auth/refresh with rotation: each thread keeps a pool of live
-- refresh tokens (from the file REFRESH_TOKENS, one per line, a disjoint slice per
-- thread); a request takes one, its response returns the next. A connection has
-- one request in flight, so a pool larger than the connections never runs dry.
local path = (os.getenv("BASE_PATH") or "") .. "/api/v1/auth/refresh"
local pool = {}
function init(args)
  local f = assert(io.open(os.getenv("REFRESH_TOKENS")))
  local per = tonumber(os.getenv("TOKENS_PER_THREAD"))
  local i, lo, hi = 0, (tid - 1) * per, tid * per
  for line in f:lines() do
    if i >= lo and i < hi then table.insert(pool, line) end
    i = i + 1
  end
  f:close()
end
function request()
  local t = table.remove(pool) or "exhausted"
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
                    '{"refresh_token":"' .. t .. '"}')
end
function response(status, headers, body)
  local t = body and body:match('"refresh_token":"([^"]+)"')
  if t then table.insert(pool, 1, t) end
end
