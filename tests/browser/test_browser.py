#!/usr/bin/env python3
"""test_browser.py FRAMEFIT SHARED_DIR OUT_DIR - the try-on page in headless Chromium.

Starts framefit (seeded catalog), opens the page, uploads a dev photo from
SHARED_DIR/data/faces/ through the file input, waits for the first render, takes a
screenshot (OUT_DIR/tryon.png, in the build tree: it shows a face photo, never
commit it) and checks that frames were drawn: the rendered <img> loaded at the
requested size, and around the eyes it differs from the uploaded photo while far
from the eyes it matches it. Also: no CSP violations or script errors.
Skips (77) without chromium/chromedriver, the dev photos or the upload endpoint."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402
import webdriver  # noqa: E402

PHOTO = "helen_train_1259817140_1.jpg"  # a frontal face of the dev set

# Compares the render with the uploaded photo (both drawn at the render's size):
# mean absolute difference in a box around the eyes and in the bottom fifth.
# Signs a new shopper in with cookies (as the store's account pages would), then
# shows the analysis again so the page offers saving the face shape.
SIGN_IN = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const post = (url, body) => fetch(url, { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const who = { email: 'browser-shopper@example.com', password: 'correct horse battery' };
  await post('/api/v1/auth/register', who);
  const r = await post('/api/v1/auth/login', Object.assign({ cookie: true }, who));
  await showAnalysis(state.photo, state.session);
  done({ login: r.status, offered: !document.getElementById('profile').hidden,
         saveDisabled: document.getElementById('save-profile').disabled });
})().catch((e) => done({ error: String(e) }));
"""

COMPARE = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const img = document.getElementById('render');
  const bmp = await createImageBitmap(state.photo);
  const w = img.naturalWidth, h = img.naturalHeight;
  const draw = (src) => {
    const c = new OffscreenCanvas(w, h);
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0, w, h);
    return g.getImageData(0, 0, w, h).data;
  };
  const a = draw(img), b = draw(bmp);
  const face = primaryFace(state.session);
  const s = w / bmp.width;
  const lm = face.landmarks.map(pt);
  const mean = (ids) => ids.reduce((m, i) => [m[0] + lm[i][0] / ids.length, m[1] + lm[i][1] / ids.length], [0, 0]);
  const er = mean([36, 37, 38, 39, 40, 41]), el = mean([42, 43, 44, 45, 46, 47]);
  const ipd = Math.hypot(el[0] - er[0], el[1] - er[1]);
  const box = [Math.min(er[0], el[0]) - 0.5 * ipd, Math.min(er[1], el[1]) - 0.35 * ipd,
               Math.max(er[0], el[0]) + 0.5 * ipd, Math.max(er[1], el[1]) + 0.35 * ipd].map((v) => v * s);
  const diff = (x0, y0, x1, y1) => {
    let sum = 0, n = 0;
    for (let y = Math.max(0, y0 | 0); y < Math.min(h, y1 | 0); y++)
      for (let x = Math.max(0, x0 | 0); x < Math.min(w, x1 | 0); x++) {
        const o = (y * w + x) * 4;
        sum += Math.abs(a[o] - b[o]) + Math.abs(a[o + 1] - b[o + 1]) + Math.abs(a[o + 2] - b[o + 2]);
        n += 3;
      }
    return n ? sum / n : -1;
  };
  done({w, h, pw: bmp.width, ph: bmp.height, eyes: diff(...box), far: diff(0, h * 0.8, w, h),
        src: img.getAttribute('src')});
})().catch((e) => done({error: String(e)}));
"""


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def main():
    framefit, shared, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    photo = os.path.join(shared, "data", "faces", PHOTO)
    if not webdriver.available():
        skip("chromium / chromedriver not installed (scripts/install-deps.sh --all)")
    if not os.path.exists(photo):
        skip("no dev photo " + photo)
    os.makedirs(out_dir, exist_ok=True)
    with Server(framefit, seed=True) as s:
        probe = s.request("POST", "/api/v1/tryon/sessions", body=b"",
                          headers={"Content-Type": "image/jpeg"})
        if probe.status in (404, 405):
            skip("the upload endpoint POST /api/v1/tryon/sessions is not there yet")
        url = "http://127.0.0.1:%d/" % s.port
        with webdriver.Browser() as b:
            b.get(url)
            title = b.script("return document.title")
            assert "framefit" in title, title
            b.send_keys(b.find("#file"), photo)
            state = b.wait_for("const s = document.body.dataset.state;"
                               " return s === 'rendered' || s === 'error' ? s : null;", timeout=180)
            status = b.script("return document.getElementById('status').textContent")
            b.script("const t = document.getElementById('tryon');"
                     " if (!t.hidden) t.scrollIntoView();")
            shot = os.path.join(out_dir, "tryon.png")
            b.screenshot(shot)
            assert state == "rendered", "page state %r, status %r (screenshot %s)" % (state, status, shot)
            shape = b.script("return document.getElementById('shape').textContent")
            npts = b.script("return primaryFace(state.session).landmarks.length")
            assert shape and shape != "—", shape
            assert npts == 68, npts
            r = b.script_async(COMPARE)
            assert "error" not in r, r
            print("render %dx%d of a %dx%d photo; mean |diff| around the eyes %.1f, far %.1f; %s"
                  % (r["w"], r["h"], r["pw"], r["ph"], r["eyes"], r["far"], r["src"]))
            want_w = int(r["src"].split("width=")[1].split("&")[0])
            assert r["w"] == min(want_w, r["pw"]), r
            assert abs(r["h"] - round(r["ph"] * r["w"] / r["pw"])) <= 1, r
            assert r["eyes"] > 6 and r["eyes"] > 4 * max(r["far"], 0.5), \
                "no frame drawn around the eyes: %r" % r
            # flip to the next recommendation: another render loads
            first = r["src"]
            if b.script("return state.items.length") > 1:
                b.script("document.getElementById('render').dataset.loaded = '';"
                         " document.getElementById('next').click();")
                ok = b.wait_for("return document.getElementById('render').dataset.loaded === '1'",
                                timeout=120)
                src2 = b.script("return document.getElementById('render').getAttribute('src')")
                assert ok and src2 != first, (ok, src2)
                b.screenshot(os.path.join(out_dir, "tryon-next.png"))
            # signed in: the page offers to keep the face shape, only after the box is ticked
            r = b.script_async(SIGN_IN)
            assert r == {"login": 200, "offered": True, "saveDisabled": True}, r
            b.script("document.getElementById('consent').click();"
                     " document.getElementById('save-profile').click();")
            saved = b.wait_for("const t = document.getElementById('status').textContent;"
                               " return t.startsWith('Saved') || t.includes('rror') ? t : null;",
                               timeout=60)
            assert saved and saved.startswith("Saved to your profile: " + shape), saved
            logs = b.browser_log()
            bad = [m for m in logs if m.get("level") == "SEVERE" or "Content Security Policy"
                   in m.get("message", "")]
            assert not bad, "console errors: %r" % bad[:5]
            print("screenshot:", shot)
    print("ok")


if __name__ == "__main__":
    main()
