-- wrk script for bench/tryon/run.sh: POSTs the photo in WRK_FILE as a raw
-- image/jpeg body to /api/v1/tryon/sessions (one anonymous shopper per wrk
-- thread) and prints one machine-readable summary line.
local f = assert(io.open(os.getenv("WRK_FILE"), "rb"))
local photo = f:read("*all")
f:close()
wrk.method = "POST"
wrk.path = "/api/v1/tryon/sessions"
wrk.body = photo
wrk.headers["Content-Type"] = "image/jpeg"
wrk.headers["X-Anonymous-Id"] = "bench-shopper-0000000000000"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT req_s=%.2f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
