#!/usr/bin/env python3
"""test_catalog_cache.py --framefit BIN [--pg]

The catalog read cache across instances: two `framefit serve` on one
database (SQLite file or a throwaway PostgreSQL 15). Instance A caches;
instance B runs with FRAMEFIT_CATALOG_CACHE=0, so its replies are the
uncached reference. Checks that cached replies are byte-identical (ETag
included), that A reads its own writes at once, and that A serves B's
writes and direct SQL writes within a bounded wait (polled; no timing
assertion)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TOKEN = "it-admin-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
READS = ["/api/v1/products/1", "/api/v1/products?limit=5",
         "/api/v1/products?q=acetate&limit=20&offset=0", "/api/v1/products?shape=round&limit=3"]


def metric(s, name):
    body = s.request("GET", "/metrics").body.decode()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric " + name)


def same(a, b, path):
    ra, rb = a.request("GET", path), b.request("GET", path)
    assert ra.status == rb.status == 200, (path, ra, rb)
    assert ra.body == rb.body, (path, ra.body[:300], rb.body[:300])
    assert ra.header("etag") == rb.header("etag"), (path, ra.headers, rb.headers)
    return ra


def wait_for(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def direct_sql(db_url, sql):
    if db_url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(db_url[len("sqlite://"):], timeout=30)
        con.execute(sql)
        con.commit()
        con.close()
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)


def run(framefit, db_url):
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_CATALOG_CACHE_POLL_MS": "50"}
    with Server(framefit, db_url=db_url, seed=True, env=env) as a, \
         Server(framefit, db_url=db_url, env=dict(env, FRAMEFIT_CATALOG_CACHE="0")) as b:
        for p in READS:  # fill, then hit: both byte-identical to the uncached server
            same(a, b, p)
        hits = metric(a, "framefit_catalog_cache_hits_total")
        for p in READS:
            same(a, b, p)
        assert metric(a, "framefit_catalog_cache_hits_total") >= hits + len(READS)
        slug = a.request("GET", "/api/v1/products/1").json()["slug"]
        same(a, b, "/api/v1/products/" + slug)

        # B writes: A serves it within the poll bound
        etag = a.request("GET", "/api/v1/products/1").header("etag")
        r = b.request("PATCH", "/api/v1/products/1", {"name": "Changed By B"},
                      dict(AUTH, **{"If-Match": etag}))
        assert r.status == 200, r
        wait_for("A to see B's write",
                 lambda: a.request("GET", "/api/v1/products/1").json()["name"] == "Changed By B")
        wait_for("A's list to see B's write",
                 lambda: a.request("GET", "/api/v1/products/" + slug).header("etag")
                 == r.header("etag"))
        for p in READS:
            same(a, b, p)

        # A writes: A reads it at once (read-your-writes on one instance)
        etag = a.request("GET", "/api/v1/products/1").header("etag")
        r = a.request("PATCH", "/api/v1/products/1", {"name": "Changed By A"},
                      dict(AUTH, **{"If-Match": etag}))
        assert r.status == 200, r
        g = a.request("GET", "/api/v1/products/1")
        assert g.json()["name"] == "Changed By A" and g.header("etag") == r.header("etag"), g

        # a direct SQL write (no version bump, no framefit involved)
        a.request("GET", "/api/v1/products/2")
        direct_sql(db_url, "UPDATE products SET description = 'written by SQL' WHERE id = 2")
        wait_for("A to see a direct SQL write",
                 lambda: a.request("GET", "/api/v1/products/2").json()["description"]
                 == "written by SQL")
        same(a, b, "/api/v1/products/2")

        # deleting on B: A answers 404 within the bound
        r = b.request("DELETE", "/api/v1/products/3", headers=AUTH)
        assert r.status == 204, r
        wait_for("A to see B's delete",
                 lambda: a.request("GET", "/api/v1/products/3").status == 404)
        assert metric(a, "framefit_catalog_cache_invalidations_total") >= 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ff-cache-it-")
    pg_state = None
    try:
        if a.pg:
            db_url = os.environ.get("FF_TEST_PG_URL")
            if not db_url:
                pg_state = os.path.join(tmp, "pg")
                os.makedirs(pg_state)
                subprocess.run(["bash", os.path.join(REPO, "tests", "pg", "pg-start.sh"),
                                pg_state], check=True, stdout=subprocess.DEVNULL)
                url_file = os.path.join(pg_state, "url")
                if not os.path.exists(url_file):
                    print("SKIP: PostgreSQL 15 is not available")
                    return 77
                db_url = open(url_file).read().strip()
            if not shutil.which("psql"):
                print("SKIP: psql is not available")
                return 77
        else:
            db_url = "sqlite://" + os.path.join(tmp, "shared.db")
        run(a.framefit, db_url)
        print("ok   catalog cache across instances on %s" % ("postgres" if a.pg else "sqlite"))
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
