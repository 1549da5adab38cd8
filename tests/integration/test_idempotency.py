#!/usr/bin/env python3
"""test_idempotency.py --framefit BIN [--pg]

Idempotency-Key on a POST that creates (POST /api/v1/products): a retry with
the same key and body replays the first answer and creates nothing; the key
with another body is a 422 idempotency-key-reuse; a key whose first request is
still running is a 409 with Retry-After, taken over once its lock expired;
keys are per caller; failed requests release the key; bad keys are 422; many
concurrent retries of one key create exactly one product."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402
from test_catalog_cache import direct_sql  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TOKEN = "it-admin-token-0123456789abcdef"


def product(slug, sku):
    return {"slug": slug, "name": "Idem Frame", "brand": "Idem", "description": "x",
            "shape": "round", "material": "acetate", "colour": "black",
            "measurements": {"lens_width_mm": 49, "bridge_mm": 20, "temple_mm": 145,
                             "lens_height_mm": 44},
            "variants": [{"sku": sku, "colour": "black", "size": "M", "stock": 3,
                          "price_cents": 9900, "currency": "EUR"}]}


def hdr(key=None, anon=None):
    h = {"Authorization": "Bearer " + TOKEN}
    if key is not None:
        h["Idempotency-Key"] = key
    if anon:
        h["X-Anonymous-Id"] = anon
    return h


def count(s, slug_prefix):
    r = s.request("GET", "/api/v1/products?q=Idem&limit=100")
    assert r.status == 200, r
    return sum(1 for p in r.json()["items"] if p["slug"].startswith(slug_prefix))


def problem(r, status, slug):
    assert r.status == status, r
    assert r.header("content-type").startswith("application/problem+json"), r
    assert r.json()["type"].endswith("/" + slug), r.json()


def run(framefit, db_url, sqlite_path, tag):
    with Server(framefit, db_url=db_url, env={"FRAMEFIT_ADMIN_TOKEN": TOKEN}) as s:
        p = "idem-%s-" % tag
        body = product(p + "a", p.upper() + "A")
        r1 = s.request("POST", "/api/v1/products", body, hdr("k-1"))
        assert r1.status == 201, r1
        assert r1.header("idempotent-replayed") is None
        r2 = s.request("POST", "/api/v1/products", body, hdr("k-1"))
        assert r2.status == 201 and r2.body == r1.body, (r1, r2)
        assert r2.header("idempotent-replayed") == "true", r2.headers
        assert r2.header("location") == r1.header("location"), (r1.headers, r2.headers)
        assert count(s, p) == 1

        # the same key for another request
        other = product(p + "b", p.upper() + "B")
        problem(s.request("POST", "/api/v1/products", other, hdr("k-1")), 422,
                "idempotency-key-reuse")
        assert count(s, p) == 1
        # another caller may use the same key for its own request
        r = s.request("POST", "/api/v1/products", other, hdr("k-1", anon="A" * 22))
        assert r.status == 201, r
        assert count(s, p) == 2

        # bad keys
        for bad in ["", "x" * 256, "has space", "caf\u00e9"]:
            h = hdr()
            h["Idempotency-Key"] = bad.encode("utf-8").decode("latin-1")
            r = s.request("POST", "/api/v1/products", product(p + "z", p.upper() + "Z"), h)
            assert r.status in (400, 422), (bad, r)
        assert count(s, p) == 2

        # a failed request releases the key: the corrected retry runs
        dup = product(p + "a", p.upper() + "C")  # slug taken -> 409
        r = s.request("POST", "/api/v1/products", dup, hdr("k-2"))
        assert r.status == 409, r
        r = s.request("POST", "/api/v1/products", dup, hdr("k-2"))
        assert r.status == 409 and r.header("idempotent-replayed") is None, r

        # concurrent retries of one key: exactly one product
        body = product(p + "c", p.upper() + "D")
        results = []

        def go():
            results.append(s.request("POST", "/api/v1/products", body, hdr("k-3")))
        ts = [threading.Thread(target=go) for _ in range(12)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(r.status for r in results)
        assert set(codes) <= {201, 409}, codes
        assert 201 in codes, codes
        for r in results:
            if r.status == 409:
                problem(r, 409, "idempotency-key-in-use")
                assert r.header("retry-after") == "1", r.headers
        assert count(s, p) == 3, count(s, p)

        # a request that is still running (row 'running', fresh): 409; once its
        # lock is stale (its process died), the next retry takes it over
        now = int(time.time() * 1000)
        body = product(p + "d", p.upper() + "E")
        direct_sql(db_url or "sqlite://" + sqlite_path,
                   "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, state, created_at,"
                   " updated_at) VALUES ('break-glass:', 'k-4', 'whatever', 'running', %d, %d)"
                   % (now, now))
        problem(s.request("POST", "/api/v1/products", body, hdr("k-4")), 422,
                "idempotency-key-reuse")  # other fingerprint
        direct_sql(db_url or "sqlite://" + sqlite_path,
                   "DELETE FROM idempotency_keys WHERE idem_key = 'k-4'")
        r = s.request("POST", "/api/v1/products", body, hdr("k-4"))
        assert r.status == 201, r
        direct_sql(db_url or "sqlite://" + sqlite_path,
                   "UPDATE idempotency_keys SET state = 'running', updated_at = %d"
                   " WHERE idem_key = 'k-4'" % now)
        problem(s.request("POST", "/api/v1/products", body, hdr("k-4")), 409,
                "idempotency-key-in-use")
        direct_sql(db_url or "sqlite://" + sqlite_path,
                   "UPDATE idempotency_keys SET updated_at = %d WHERE idem_key = 'k-4'"
                   % (now - 120000))
        r = s.request("POST", "/api/v1/products", body, hdr("k-4"))  # taken over, runs again
        assert r.status == 409, r  # ... and meets the product the first run created
        assert count(s, p) == 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ff-idem-it-")
    pg_state = None
    try:
        if a.pg:
            pg_state = os.path.join(tmp, "pg")
            os.makedirs(pg_state)
            subprocess.run(["bash", os.path.join(REPO, "tests", "pg", "pg-start.sh"), pg_state],
                           check=True, stdout=subprocess.DEVNULL)
            url_file = os.path.join(pg_state, "url")
            if not os.path.exists(url_file) or not shutil.which("psql"):
                print("SKIP: PostgreSQL 15 / psql is not available")
                return 77
            run(a.framefit, open(url_file).read().strip(), None, "pg")
        else:
            path = os.path.join(tmp, "framefit.db")
            run(a.framefit, "sqlite://" + path, path, "sqlite")
        print("ok")
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
