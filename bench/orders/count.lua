-- Appended to both servers' order scripts: at the end, adds the number of 2xx answers
-- (completed requests minus non-2xx; only 201 is a 2xx here) to the file $COUNT_FILE,
-- which the oversell check compares with the orders in the database.
local base_done = done
function done(summary, latency, requests)
  base_done(summary, latency, requests)
  local f = io.open(os.getenv("COUNT_FILE"), "a")
  f:write(string.format("%d\n", summary.requests - summary.errors.status))
  f:close()
end
