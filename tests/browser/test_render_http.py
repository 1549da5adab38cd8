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
    for inm in ('"x", W/' + etag, " " + etag + " , \"y\"", "*"):
        r = get(s, base + "&format=png", headers={"If-None-Match": inm})
        check(r.status == 304, "304 for If-None-Match: " + inm, r)
    for inm in ("x" + etag, etag[:-2] + '"', '"other"'):
        r = get(s, base + "&format=png", headers={"If-None-Match": inm})
        check(r.status == 200 and r.body == png_first, "200 for If-None-Match: " + inm, r)

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


TOKEN = "t" * 40


def ring_frame(w=400, h=140):
    """Two thick red rings centred at (100, 70) and (300, 70), transparent elsewhere."""
    def px(x, y):
        for cx in (100, 300):
            d = ((x + 0.5 - cx) ** 2 + (y + 0.5 - 70) ** 2) ** 0.5
            if 45 <= d <= 60:
                return (220, 20, 20, 255)
        return (0, 0, 0, 0)
    return fx.png_rgba(w, h, px)


def test_custom_frames(s):
    sku = fx.some_skus(s.data_dir, 2)[1]
    path = "/api/v1/frames/%s/image" % sku
    q = "?lens_left=100,70&lens_right=300,70"
    staff = {"Authorization": "Bearer " + TOKEN, "Content-Type": "image/png"}
    png = ring_frame()
    render = "/api/v1/tryon/sessions/%s/render?variant=%s&format=png&width=320" % (SID, sku)
    before = get(s, render)
    check(before.status == 200, "generated render", before)

    r = s.request("GET", path)
    check(r.status == 200 and r.header("content-type") == "image/png", "generated frame image", r)
    check('"lens_left"' in r.header("x-frame-anchors"), "anchors header", r.headers)
    r = s.request("PUT", path + q, body=png, headers={"Content-Type": "image/png"})
    check(r.status == 401, "staff only", r)
    r = s.request("PUT", path + q, body=png, headers=dict(staff, **{"Content-Type": "image/jpeg"}))
    check(r.status == 415, "PNG only", r)
    rgb = fx.png_rgb(40, 20, lambda x, y: (1, 2, 3))
    for body, query, field in ((rgb, q, None), (b"\x89PNG\r\n\x1a\n" + b"x" * 40, q, None),
                               (png[:len(png) // 2], q, None), (png, "?lens_left=100,70", "lens_right"),
                               (png, "?lens_left=a,b&lens_right=300,70", "lens_left"),
                               (png, "?lens_left=100,70&lens_right=900,70", None),
                               (png, "?lens_left=100,70&lens_right=300,130", None)):
        r = s.request("PUT", path + query, body=body, headers=staff)
        check(r.status == 422, "422 for a bad frame upload %s" % query, r)
        if field:
            check(field in [e["field"] for e in r.json().get("errors", [])], "names " + field, r)
    r = s.request("PUT", "/api/v1/frames/NO-SUCH-SKU/image" + q, body=png, headers=staff)
    check(r.status == 404, "unknown SKU", r)

    r = s.request("PUT", path + q, body=png, headers=staff)
    check(r.status == 200 and r.json()["width"] == 400, "custom frame stored", r)
    key = r.json()["object_key"]
    check(os.path.exists(fx.object_path(s.data_dir, key)), "PNG in the object store")
    r = s.request("GET", path)
    check(r.status == 200 and fx.png_size(r.body) == (400, 140), "custom frame served", r)
    after = get(s, render)
    check(after.status == 200 and after.header("x-render-cache") == "miss", "new render", after)
    check(after.header("etag") != before.header("etag") and after.body != before.body,
          "the custom frame is drawn")
    r = s.request("DELETE", path, headers={"Authorization": "Bearer " + TOKEN})
    check(r.status == 204, "deleted", r)
    check(not os.path.exists(fx.object_path(s.data_dir, key)), "unused PNG removed")
    r = s.request("DELETE", path, headers={"Authorization": "Bearer " + TOKEN})
    check(r.status == 404, "nothing left to delete", r)
    again = get(s, render)
    check(again.header("etag") == before.header("etag") and again.body == before.body,
          "back to the generated frame")


def main():
    framefit = sys.argv[1]
    with Server(framefit, seed=True, env={"FRAMEFIT_ADMIN_TOKEN": TOKEN}) as s:
        test_page(s)
        test_render(s)
        test_custom_frames(s)
    print("ok")


if __name__ == "__main__":
    main()
