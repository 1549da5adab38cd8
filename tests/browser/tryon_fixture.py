"""tryon_fixture.py - a try-on session without the upload endpoint: a synthetic
photo put into the object store (DATA_DIR/objects/aa/bb/<sha256>) and a session
row with its geometry inserted into the SQLite database, as tryon would.
Used by test_render_http.py and bench/render/."""
import hashlib
import json
import os
import sqlite3
import struct
import time
import zlib


def png_rgb(w, h, pixel):
    """A PNG of w x h RGB pixels; pixel(x, y) -> (r, g, b)."""
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw.extend(pixel(x, y))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b""))


def png_rgba(w, h, pixel):
    """A PNG of w x h RGBA pixels (straight alpha); pixel(x, y) -> (r, g, b, a)."""
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw.extend(pixel(x, y))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b""))


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def skin_photo(w=640, h=480):
    """A warm gradient 'face' (no real person): enough to draw frames on."""
    return png_rgb(w, h, lambda x, y: (200 - y * 60 // h, 150 + x * 40 // w, 120))


def put_object(data_dir, data):
    key = hashlib.sha256(data).hexdigest()
    d = os.path.join(data_dir, "objects", key[0:2], key[2:4])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, key), "wb") as f:
        f.write(data)
    return key


def object_path(data_dir, key):
    return os.path.join(data_dir, "objects", key[0:2], key[2:4], key)


def db_path(data_dir):
    for name in os.listdir(data_dir):
        if name.endswith(".db") or name.endswith(".sqlite") or name.endswith(".sqlite3"):
            return os.path.join(data_dir, name)
    raise RuntimeError("no SQLite database in " + data_dir)


def add_session(data_dir, sid, anon, photo, w, h, eyes, mm_per_px, yaw=0.0, pitch=0.0, roll=0.0):
    key = put_object(data_dir, photo)
    geom = {"eyes": [list(eyes[0]), list(eyes[1])], "roll": roll, "yaw": yaw, "pitch": pitch,
            "mm_per_px": mm_per_px, "face_width_mm": 140, "pd_mm": 63, "shape": "oval",
            "landmarks": [[eyes[0][0], eyes[0][1]]] * 68}
    now = int(time.time() * 1000)
    con = sqlite3.connect(db_path(data_dir), timeout=30)
    with con:
        con.execute("INSERT INTO tryon_sessions (id, anon_id, photo_key, photo_type, width, height,"
                    " face_shape, geom, analysis, created_at, expires_at)"
                    " VALUES (?, ?, ?, 'image/png', ?, ?, 'oval', ?, '{}', ?, ?)",
                    (sid, anon, key, w, h, json.dumps(geom), now, now + 86400000))
    con.close()
    return key


def some_skus(data_dir, n=3):
    con = sqlite3.connect(db_path(data_dir), timeout=30)
    rows = con.execute("SELECT v.sku FROM variants v JOIN products p ON p.id = v.product_id"
                       " WHERE p.deleted_at IS NULL ORDER BY v.id LIMIT ?", (n,)).fetchall()
    con.close()
    return [r[0] for r in rows]


def render_rows(data_dir, sid):
    con = sqlite3.connect(db_path(data_dir), timeout=30)
    rows = con.execute("SELECT key, object_key, content_type, bytes FROM tryon_renders"
                       " WHERE session_id = ?", (sid,)).fetchall()
    con.close()
    return rows
