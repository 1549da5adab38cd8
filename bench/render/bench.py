#!/usr/bin/env python3
"""bench/render/bench.py FRAMEFIT - try-on render latency and throughput.

  first (cold)  the first render of a new session (cache miss, photo never decoded):
            read and decode the stored photo, resize, draw the frame, composite,
            encode, store; N_COLD sessions
  first (flip)  a frame not yet rendered for this session (cache miss) while the
            decoded, resized photo is still in memory; one shopper, a new SKU each
            request (N_FIRST requests)
  cached    the same render again (cache hit: object store read), N_CACHED requests
  304       revalidation with If-None-Match
  8 shoppers  SHOPPERS threads, each with its own session, flipping through
            FLIPS frames (all misses), then through them again (hits)
The photo is a 1920x1080 JPEG of the speed set (shared/data/speed); the session
comes from the upload endpoint when it exists, else it is inserted directly with
the geometry `framefit vision detect` finds. Output width: the endpoint's default
(min(photo, 1280)) unless WIDTH is set. Prints p50/p99 in ms and renders/s."""
import http.client
import json
import math
import os
import subprocess
import sys
import threading
import time

ROOT = os.environ.get("FF_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
from ffharness import Server  # noqa: E402
import tryon_fixture as fx  # noqa: E402

N_FIRST = int(os.environ.get("N_FIRST", 40))
N_COLD = int(os.environ.get("N_COLD", 12))
N_CACHED = int(os.environ.get("N_CACHED", 300))
SHOPPERS = int(os.environ.get("SHOPPERS", 8))
FLIPS = int(os.environ.get("FLIPS", 12))
WIDTH = os.environ.get("WIDTH", "")
FORMAT = os.environ.get("FORMAT", "jpeg")
SPEED = os.path.join(ROOT, "..", "shared", "data", "speed")


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)] * 1000 if xs else float("nan")


def line(name, lat, extra=""):
    print("%-22s n=%-4d p50 %8.1f ms   p99 %8.1f ms  %s" % (name, len(lat), pct(lat, 50),
                                                         pct(lat, 99), extra))


def anon(i):
    return "benchshopper%012d" % i


def make_session(s, framefit, photo_path, i, geom_cache={}, fixture=False):
    # distinct bytes per session (libjpeg ignores what follows the end marker), so
    # every shopper has "their own" photo: no sharing of decoded photos
    photo = open(photo_path, "rb").read() + b"\0" * i
    if fixture:
        return fixture_session(s, framefit, photo_path, photo, i, geom_cache)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=300)
    c.request("POST", "/api/v1/tryon/sessions", body=photo,
              headers={"Content-Type": "image/jpeg", "X-Anonymous-Id": anon(i)})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status in (200, 201):
        return json.loads(body)["id"], "upload"
    return fixture_session(s, framefit, photo_path, photo, i, geom_cache)


def fixture_session(s, framefit, photo_path, photo, i, geom_cache):
    """A session inserted directly, with these exact photo bytes (the upload strips
    what follows the JPEG end marker, which would make every photo the same)."""
    if "g" not in geom_cache:
        out = subprocess.run([framefit, "vision", "detect", photo_path], capture_output=True,
                             text=True, check=True).stdout
        f = json.loads(out)["faces"][0]
        m = f["measurements"]
        geom_cache["g"] = (m["eye_right"], m["eye_left"], m["mm_per_px_estimate"], f["pose"])
    er, el, mpp, pose = geom_cache["g"]
    sid = "benchsession%010d" % i
    key = fx.add_session(s.data_dir, sid, anon(i), photo, 1920, 1080, (er, el), mpp,
                         yaw=pose["yaw"], pitch=pose["pitch"], roll=pose["roll"])
    con = __import__("sqlite3").connect(fx.db_path(s.data_dir))
    with con:
        con.execute("UPDATE tryon_sessions SET photo_type = 'image/jpeg' WHERE id = ?", (sid,))
    con.close()
    return sid, "fixture"


def url(sid, sku):
    u = "/api/v1/tryon/sessions/%s/render?variant=%s&format=%s" % (sid, sku, FORMAT)
    return u + ("&width=" + WIDTH if WIDTH else "")


def fetch(conn, path, who, extra=None):
    h = {"X-Anonymous-Id": who}
    h.update(extra or {})
    t0 = time.perf_counter()
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    return r.status, r.getheader("X-Render-Cache"), r.getheader("ETag"), len(body), dt


def main():
    framefit = sys.argv[1]
    photo = os.path.join(SPEED, "1259817140_1_1920x1080.jpg")
    if not os.path.exists(photo):
        print("bench/render: no speed photo %s; skipped" % photo)
        return
    with Server(framefit, seed=True, env={"FRAMEFIT_HTTP_WORKERS": "8"}) as s:
        skus = fx.some_skus(s.data_dir, max(N_FIRST, SHOPPERS * FLIPS) + 8)
        sid, how = make_session(s, framefit, photo, 0)
        print("session from the %s; photo 1920x1080 JPEG; width %s; format %s"
              % (how, WIDTH or "default (1280)", FORMAT))
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=300)
        lat = []
        for i in range(N_COLD):
            cs = make_session(s, framefit, photo, 1000 + i, fixture=True)[0]
            st, cache, _, n, dt = fetch(c, url(cs, skus[i]), anon(1000 + i))
            assert st == 200 and cache == "miss", (st, cache)
            lat.append(dt)
        line("first render (cold)", lat)
        lat, size = [], 0
        for sku in skus[:N_FIRST]:
            st, cache, _, n, dt = fetch(c, url(sid, sku), anon(0))
            assert st == 200 and cache == "miss", (st, cache)
            lat.append(dt)
            size += n
        line("first render (flip)", lat, "avg %d KB" % (size / len(lat) / 1024))
        lat = []
        for i in range(N_CACHED):
            st, cache, etag, _, dt = fetch(c, url(sid, skus[i % min(8, N_FIRST)]), anon(0))
            assert st == 200 and cache == "hit", (st, cache)
            lat.append(dt)
        line("cached render (hit)", lat)
        lat = []
        for i in range(N_CACHED):
            st, _, _, _, dt = fetch(c, url(sid, skus[(N_CACHED - 1) % min(8, N_FIRST)]), anon(0),
                                    {"If-None-Match": etag})
            assert st == 304, st
            lat.append(dt)
        line("revalidate (304)", lat)
        c.close()

        # every shopper has their own photo bytes (nothing shared between them)
        sessions = [make_session(s, framefit, photo, i + 1, fixture=True)[0]
                    for i in range(SHOPPERS)]
        for phase, want in (("miss", "miss"), ("hit", "hit")):
            lats, errs = [], []
            lock = threading.Lock()

            def shopper(i):
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=600)
                mine = skus[i * FLIPS % len(skus):][:FLIPS]
                for sku in mine:
                    st, cache, _, _, dt = fetch(conn, url(sessions[i], sku), anon(i + 1))
                    with lock:
                        lats.append(dt)
                        if st != 200 or cache != want:
                            errs.append((st, cache))
                conn.close()

            threads = [threading.Thread(target=shopper, args=(i,)) for i in range(SHOPPERS)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            line("%d shoppers (%s)" % (SHOPPERS, phase), lats,
                 "%.1f renders/s, %d errors" % (len(lats) / wall, len(errs)))
        rss = open("/proc/%d/status" % s.proc.pid).read()
        hwm = [l for l in rss.splitlines() if l.startswith("VmHWM")]
        print("server peak RSS:", hwm[0].split(":")[1].strip() if hwm else "?", "cores:", os.cpu_count())


if __name__ == "__main__":
    main()
