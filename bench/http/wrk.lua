-- wrk script for bench/http/run.sh: WRK_PATH, WRK_METHOD, WRK_BODY from the
-- environment; prints one machine-readable summary line.
wrk.method = os.getenv("WRK_METHOD") or "GET"
wrk.path = os.getenv("WRK_PATH") or "/healthz"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT req_s=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
