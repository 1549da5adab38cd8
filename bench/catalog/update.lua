-- Staff update: PATCH /api/v1/products/{id} (If-Match: *) over ids 1..PRODUCTS.
local n = tonumber(os.getenv("PRODUCTS") or "10000")
local token = os.getenv("ADMIN_TOKEN") or ""
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local id = math.random(1, n)
  return wrk.format("PATCH", "/api/v1/products/" .. id, {
    ["Authorization"] = "Bearer " .. token, ["If-Match"] = "*",
    ["Content-Type"] = "application/json"},
    '{"description":"benchmark edit ' .. math.random(1, 1000000) .. '"}')
end
