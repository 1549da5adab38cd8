#!/usr/bin/env python3
"""test_accounts_redis.py --framefit BIN - two framefit instances with
FRAMEFIT_REDIS_URL set share their rate limits through the redis-server of the
CTest fixture "redis" (URL in FF_TEST_REDIS_URL_FILE; skips without it), and an
instance whose Redis is unreachable still limits on its own."""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ffharness import Server, check_problem  # noqa: E402


def forgot(s):
    return s.request("POST", "/api/v1/auth/forgot-password", body={"email": "x@example.com"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    a = ap.parse_args()
    f = os.environ.get("FF_TEST_REDIS_URL_FILE", "")
    if not f or not os.path.exists(f):
        print("SKIP: no redis-server fixture")
        sys.exit(77)
    url = open(f).read().strip()
    env = {"FRAMEFIT_REDIS_URL": url, "FRAMEFIT_RATELIMIT_AUTH_IP": "1/6",
           "FRAMEFIT_RATELIMIT_AUTH_ACCOUNT": "100000/100000", "FRAMEFIT_RATELIMIT_API": "0/0"}
    with Server(a.framefit, env=env) as s1:
        # a second instance on the same database and the same Redis
        with Server(a.framefit, env=dict(env, FRAMEFIT_DATABASE_URL="sqlite://" + os.path.join(
                s1.data_dir, "framefit.db"), FRAMEFIT_DATA_DIR=s1.data_dir)) as s2:
            got = [forgot(s1 if i % 2 == 0 else s2) for i in range(8)]
            assert [r.status for r in got[:6]] == [202] * 6, got
            check_problem(got[6], 429)
            check_problem(got[7], 429)
            assert got[5].header("ratelimit-remaining") == "0", got[5].headers
            assert got[3].header("ratelimit-remaining") == "2", got[3].headers
            assert int(got[7].header("retry-after")) >= 30, got[7].headers
        # the buckets are in Redis (keys name the policy, not addresses in clear text)
        host_port = url.split("@", 1)[1]
        host, rest = host_port.split(":", 1)
        port, db = rest.split("/", 1)
        pw = url.split("//:", 1)[1].split("@", 1)[0]
        keys = subprocess.run(["redis-cli", "-h", host, "-p", port, "-n", db, "-a", pw,
                               "--no-auth-warning", "--scan", "--pattern", "ff:rl:*"],
                              capture_output=True, text=True, check=True).stdout.split()
        assert "ff:rl:auth-ip:127.0.0.1" in keys, keys
        assert not any("@" in k for k in keys), keys
    # Redis down: each instance limits on its own (never open, never closed)
    env["FRAMEFIT_REDIS_URL"] = "redis://127.0.0.1:1"
    with Server(a.framefit, env=env) as s:
        got = [forgot(s) for _ in range(7)]
        assert [r.status for r in got[:6]] == [202] * 6, got
        check_problem(got[6], 429)
        assert "unavailable" in s.read_log()
    print("accounts redis: all passed")


if __name__ == "__main__":
    main()
