-- Staff update: PATCH /api/v1/products/:id with the admin token, If-Match: * (any
-- version), a new description each time; ids spread over the catalogue.
local n = tonumber(os.getenv("PRODUCTS") or "10000")
local prefix = (os.getenv("BASE_PATH") or "") .. "/api/v1/products/"
local token = os.getenv("ADMIN_TOKEN") or ""
local k = 0
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  k = k + 1
  local body = string.format('{"description":"Benchmark update %d of thread %d"}', k, tid or 0)
  return wrk.format("PATCH", prefix .. math.random(1, n), {
    ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
    ["If-Match"] = "*" }, body)
end
