-- framefit's search: the peer's product_search.lua with framefit's parameters.
-- Same q and shape choices, limit=20; framefit pages by cursor, not offset, so every
-- request asks for a first page (the peer's offset 0..80 costs it a little more).
local qs = { "ray", "AVIATOR", "slim", "tom", "Round", "persol", "lux", "cat eye", "12", "" }
local shapes = { "round", "square", "rectangle", "aviator", "cat-eye", "oval", "geometric", "browline", "" }
local prefix = (os.getenv("BASE_PATH") or "") .. "/api/v1/products"
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local q = qs[math.random(#qs)]:gsub(" ", "%%20")
  local s = shapes[math.random(#shapes)]
  local path = prefix .. "?limit=20"
  if q ~= "" then path = path .. "&q=" .. q end
  if s ~= "" then path = path .. "&shape=" .. s end
  return wrk.format("GET", path)
end
