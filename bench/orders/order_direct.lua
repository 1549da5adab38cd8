-- POST /api/v1/orders, framefit's direct ("buy now") form, bearer access token from
-- $TOKEN: the peer's order.lua request, two random distinct products of $PRODUCTS
-- (variant i is product i's only variant in `framefit seed --bench`), quantity 1..2.
local n = tonumber(os.getenv("PRODUCTS") or "10000")
local path = (os.getenv("BASE_PATH") or "") .. "/api/v1/orders"
local hdr = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local a = math.random(1, n)
  local b = a % n + 1 + math.random(0, n - 2)
  if b > n then b = b - n end
  if b == a then b = (a % n) + 1 end
  local body = string.format('{"items":[{"variant_id":%d,"quantity":%d},{"variant_id":%d,"quantity":%d}]}',
    a, math.random(1, 2), b, math.random(1, 2))
  return wrk.format("POST", path, hdr, body)
end
