#!/usr/bin/env python3
"""test_render_http.py FRAMEFIT - the render endpoint and the try-on page over HTTP.

Sessions are made by tryon_fixture (a synthetic photo and a session row, as the
upload would), so this runs without face photos or the landmark model."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402
import tryon_fixture as fx  # noqa: E402

ANON = "A" * 22 + "render-test"
OTHER = "B" * 30
SID = "rendertestsession00001"  # 22 chars like tryon's ids
W, H = 640, 480
EYES = ((270.0, 230.0), (370.0, 228.0))


def check(cond, msg, r=None):
    if not cond:
        raise AssertionError(msg + ("" if r is None else ": %r" % (r,)))


def get(s, path, anon=ANON, headers=None):
    h = {"X-Anonymous-Id": anon} if anon else {}
    h.update(headers or {})
    return s.request("GET", path, headers=h)


def test_page(s):
    r = s.request("GET", "/")
    check(r.status == 200 and r.header("content-type").startswith("text/html"), "index", r)
    check(b"/static/app.js" in r.body and b"<canvas" in r.body, "index content")
    csp = r.header("content-security-policy")
    check(csp and "script-src 'self'" in csp and "default-src 'none'" in csp, "page CSP " + str(csp))
    check("http:" not in csp and "https:" not in csp and "unsafe" not in csp, "CSP is self only")
    check(r.header("cache-control") == "no-cache" and r.header("etag"), "page caching", r.headers)
    r2 = s.request("GET", "/", headers={"If-None-Match": r.header("etag")})
    check(r2.status == 304, "index revalidates", r2)
    for name, ctype in (("app.js", "text/javascript"), ("style.css", "text/css")):
        r = s.request("GET", "/static/" + name)
        check(r.status == 200 and r.header("content-type").startswith(ctype), name, r)
        check(r.header("content-security-policy").startswith("default-src 'none'"), name + " CSP")
    r = s.request("GET", "/static/nope.js")
    check(r.status == 404, "unknown static file", r)
    r = s.request("GET", "/static/..%2Fapp.js")
    check(r.status == 404, "no path games", r)
    # the API keeps its strict default CSP
    r = s.request("GET", "/healthz")
    check(r.header("content-security-policy") == "default-src 'none'; frame-ancestors 'none'",
          "API CSP unchanged", r.headers)


def test_render(s):
    photo = fx.skin_photo(W, H)
    photo_key = fx.add_session(s.data_dir, SID, ANON, photo, W, H, EYES, 0.63)
    sku = fx.some_skus(s.data_dir, 1)[0]
    base = "/api/v1/tryon/sessions/%s/render?variant=%s" % (SID, sku)

    r = get(s, base + "&format=png")
    check(r.status == 200 and r.header("content-type") == "image/png", "png render", r)
    check(fx.png_size(r.body) == (W, H), "default width is the photo's (< 1280)")
    check(r.header("x-render-cache") == "miss", "first render is a miss", r.headers)
    etag = r.header("etag")
    check(etag and etag.startswith('"') and not etag.startswith("W/"), "strong ETag " + str(etag))
    check(r.header("cache-control").startswith("private, max-age="), "Cache-Control", r.headers)
    png_first = r.body
    check(png_first != photo, "frames were drawn")

    r = get(s, base + "&format=png")
    check(r.status == 200 and r.header("x-render-cache") == "hit", "second is a hit", r.headers)
    check(r.body == png_first and r.header("etag") == etag, "same bytes, same ETag")
    r = get(s, base + "&format=png", headers={"If-None-Match": etag})
    check(r.status == 304 and not r.body and r.header("etag") == etag, "304 with the ETag", r)

    rows = fx.render_rows(s.data_dir, SID)
    check(len(rows) == 1 and rows[0][2] == "image/png", "recorded in tryon_renders", rows)
    # cache loss: the object goes away -> drawn again, same bytes
    os.unlink(fx.object_path(s.data_dir, rows[0][1]))
    r = get(s, base + "&format=png")
    check(r.status == 200 and r.header("x-render-cache") == "miss", "regenerated", r.headers)
    check(r.body == png_first and r.header("etag") == etag, "deterministic after a loss")
    check(os.path.exists(fx.object_path(s.data_dir, rows[0][1])), "object stored again")
    check(os.path.exists(fx.object_path(s.data_dir, photo_key)), "photo untouched")

    r = get(s, base)
    check(r.status == 200 and r.header("content-type") == "image/jpeg" and r.body[:2] == b"\xff\xd8",
          "jpeg by default", r)
    check(r.header("etag") != etag, "another format, another key")
    r = get(s, base + "&format=webp&width=320")
    check(r.status == 200 and r.body[:4] == b"RIFF" and r.body[8:12] == b"WEBP", "webp", r)
    r = get(s, base + "&format=png&width=320")
    check(fx.png_size(r.body) == (320, 240), "width 320 keeps the aspect")
    r2 = get(s, base + "&format=png&width=4000")
    check(r2.status == 200 and fx.png_size(r2.body) == (W, H) and r2.header("etag") == etag,
          "no upscaling: one key for widths >= the photo")

    # not the owner, no owner, unknown session: 404 alike
    for anon in (OTHER, None):
        r = get(s, base, anon=anon)
        check(r.status == 404, "not theirs -> 404", r)
    r = get(s, "/api/v1/tryon/sessions/nosuchsession00000000/render?variant=" + sku)
    check(r.status == 404, "unknown session", r)
    r = get(s, "/api/v1/tryon/sessions/%s/render?variant=NO-SUCH-SKU" % SID)
    check(r.status == 404 and "NO-SUCH-SKU" in r.json()["detail"], "unknown SKU", r)
    # cookie works like the header (an <img> cannot send headers)
    r = s.request("GET", base + "&format=png", headers={"Cookie": "a=b; ff_anon=" + ANON})
    check(r.status == 200 and r.body == png_first, "cookie owner", r)

    bad = {"": "variant", "?format=png": "variant", "?variant=": "variant",
           "?variant=a%20b": "variant", "?variant=%s&format=gif" % sku: "format",
           "?variant=%s&width=0" % sku: "width", "?variant=%s&width=abc" % sku: "width",
           "?variant=%s&width=99999" % sku: "width", "?variant=%s&colour=red" % sku: "colour",
           "?variant=%s&variant=%s" % (sku, sku): "variant", "?variant=" + "x" * 65: "variant"}
    for q, field in bad.items():
        r = get(s, "/api/v1/tryon/sessions/%s/render%s" % (SID, q))
        check(r.status == 422, "422 for " + q, r)
        fields = [e["field"] for e in r.json().get("errors", [])]
        check(field in fields, "field %s named for %s: %s" % (field, q, fields))

    # no photo bytes in the log
    log = s.read_log()
    check(photo_key not in log, "no photo keys in the log")
    check("PNG" not in log and "JFIF" not in log, "no image bytes in the log")


def main():
    framefit = sys.argv[1]
    with Server(framefit, seed=True) as s:
        test_page(s)
        test_render(s)
    print("ok")


if __name__ == "__main__":
    main()
