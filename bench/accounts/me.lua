-- GET /api/v1/me with a bearer access token (env ACCESS_TOKEN).
local path = (os.getenv("BASE_PATH") or "") .. "/api/v1/me"
local hdr = { ["Authorization"] = "Bearer " .. os.getenv("ACCESS_TOKEN") }
function request() return wrk.format("GET", path, hdr) end
