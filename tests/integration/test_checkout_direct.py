#!/usr/bin/env python3
"""test_checkout_direct.py --framefit BIN [--pg] - the direct ("buy now") form of
checkout over real HTTP: POST /api/v1/orders with {"items": [{"variant_id": N |
"sku": "...", "quantity": N}, ...]} orders exactly those items and leaves the
cart untouched.

Malformed, oversized and hostile bodies (422/400, nothing changes), repeated
items (by id, by sku, and one of each naming the same variant), unknown
variants (422 naming the item), out of stock and withdrawn products (409
out-of-stock naming the variant, nothing changes), mixed currencies (422), a
signed-in customer with a bearer token, an anonymous caller (an id is made for
it), Idempotency-Key replay, the reply equal to GET, and the oversell proof for
this form: 64 concurrent direct orders at the last units sell exactly those
units, stock never negative, ordered units + remaining stock = initial stock."""
import argparse
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server, fresh_db  # noqa: E402
from test_orders import H, STAFF, TOKEN, anon, make_product, problem, sql, stock  # noqa: E402

SHOPPERS = 64
PW = "correct-horse-battery-9"


def order(s, items, headers=None, **extra):
    body = dict(extra, items=items)
    return s.request("POST", "/api/v1/orders", body, headers)


def fields(r):
    return {e["field"] for e in r.json().get("errors", [])}


def counts(db_url):
    n = sql(db_url, "SELECT COUNT(*) FROM orders", fetch=True)
    return int(n[0][0])


def test_bad_bodies(s, db_url, pid, vid):
    before_orders, before_stock = counts(db_url), stock(s, pid)
    cases = [
        ({"items": []}, "items"),
        ({"items": {}}, "items"),
        ({"items": [1]}, "items[0]"),
        ({"items": [{"variant_id": vid[1]}]}, "items[0].quantity"),
        ({"items": [{"variant_id": vid[1], "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"variant_id": vid[1], "quantity": 101}]}, "items[0].quantity"),
        ({"items": [{"variant_id": vid[1], "quantity": "1"}]}, "items[0].quantity"),
        ({"items": [{"variant_id": 0, "quantity": 1}]}, "items[0].variant_id"),
        ({"items": [{"variant_id": -5, "quantity": 1}]}, "items[0].variant_id"),
        ({"items": [{"variant_id": 1.5, "quantity": 1}]}, "items[0].variant_id"),
        ({"items": [{"quantity": 1}]}, "items[0]"),
        ({"items": [{"variant_id": vid[1], "sku": "DIRECT-A", "quantity": 1}]}, "items[0]"),
        ({"items": [{"sku": "", "quantity": 1}]}, "items[0].sku"),
        ({"items": [{"sku": "S" * 65, "quantity": 1}]}, "items[0].sku"),
        ({"items": [{"variant_id": vid[1], "quantity": 1, "price_cents": 1}]},
         "items[0].price_cents"),
        ({"items": [{"variant_id": vid[1], "quantity": 1}], "coupon": "x"}, "coupon"),
        ({"items": [{"variant_id": 10 + i, "quantity": 1} for i in range(51)]}, "items"),
        # repeated items: by id, by sku
        ({"items": [{"variant_id": vid[1], "quantity": 1},
                    {"variant_id": vid[1], "quantity": 2}]}, "items[1]"),
        ({"items": [{"sku": "DIRECT-A", "quantity": 1}, {"sku": "DIRECT-A", "quantity": 1}]},
         "items[1]"),
    ]
    for body, field in cases:
        r = s.request("POST", "/api/v1/orders", body, H(anon(1, "bad")))
        problem(r, 422, "validation")
        assert field in fields(r), (body, r.json())
    # not JSON, truncated, a NUL byte, wrong media type
    for raw in (b'{"items": [', b'{"items": [{"variant_id": 1, "quantity": 1}]', b"\x00",
                b'{"items": [{"sku": "A\\u0000", "quantity": 1}]}'):
        r = s.request("POST", "/api/v1/orders", raw,
                      dict(H(anon(1, "bad")), **{"Content-Type": "application/json"}))
        assert r.status in (400, 422), (raw, r)
    r = s.request("POST", "/api/v1/orders", b'{"items": []}',
                  dict(H(anon(1, "bad")), **{"Content-Type": "text/plain"}))
    assert r.status == 415, r
    # an id and a sku naming the same variant; unknown id and sku (422 naming each)
    r = order(s, [{"variant_id": vid[0], "quantity": 1}, {"sku": "DIRECT-A", "quantity": 1}],
              H(anon(1, "bad")))
    problem(r, 422, "validation")
    assert "items[1]" in fields(r), r.json()
    r = order(s, [{"variant_id": 987654321, "quantity": 1}, {"sku": "NO-SUCH-SKU", "quantity": 1},
                  {"variant_id": vid[1], "quantity": 1}], H(anon(1, "bad")))
    problem(r, 422, "validation")
    assert fields(r) == {"items[0].variant_id", "items[1].sku"}, r.json()
    assert counts(db_url) == before_orders
    assert stock(s, pid) == before_stock


def test_orders(s, db_url, pid, vid, other):
    a = anon(2, "ok")
    # something in the cart, which the direct form must not touch
    r = s.request("POST", "/api/v1/cart/items", {"variant_id": vid[1], "quantity": 2}, H(a))
    assert r.status == 200, r
    cart = s.request("GET", "/api/v1/cart", headers=H(a)).json()
    before = stock(s, pid)[0]
    r = order(s, [{"sku": "DIRECT-B", "quantity": 3}, {"variant_id": vid[0], "quantity": 2}], H(a),
              email="direct@example.com")
    assert r.status == 201, r
    o = r.json()
    assert r.header("location") == "/api/v1/orders/%d" % o["id"], r
    assert o["status"] == "pending_payment" and o["email"] == "direct@example.com", o
    assert [(ln["variant_id"], ln["quantity"]) for ln in o["lines"]] == \
        sorted([(vid[0], 2), (vid[1], 3)]), o
    assert o["total_cents"] == 2 * 1000 + 3 * 2500, o
    assert all(ln["line_total_cents"] == ln["quantity"] * ln["unit_price_cents"]
               for ln in o["lines"]), o
    got = s.request("GET", "/api/v1/orders/%d" % o["id"], headers=H(a))
    assert got.status == 200 and got.json() == o, (got.json(), o)
    after = stock(s, pid)[0]
    assert after[vid[0]] == before[vid[0]] - 2 and after[vid[1]] == before[vid[1]] - 3, after
    lines = [(i["variant_id"], i["quantity"]) for i in cart["items"]]
    assert lines == [(vid[1], 2)], cart
    cart2 = s.request("GET", "/api/v1/cart", headers=H(a)).json()
    assert [(i["variant_id"], i["quantity"]) for i in cart2["items"]] == lines, cart2
    res = sql(db_url, "SELECT variant_id, quantity FROM stock_reservations WHERE order_id = %d"
              " ORDER BY variant_id" % o["id"], fetch=True)
    assert [(int(x), int(y)) for x, y in res] == sorted([(vid[0], 2), (vid[1], 3)]), res
    ev = sql(db_url, "SELECT to_status, actor FROM order_events WHERE order_id = %d" % o["id"],
             fetch=True)
    assert [e[0] for e in ev] == ["pending_payment"] and ev[0][1] == "anon", ev
    # Idempotency-Key: the replay is the first answer; nothing is taken twice
    k = H(a, key="direct-key-0001")
    r1 = order(s, [{"variant_id": vid[0], "quantity": 1}], k)
    r2 = order(s, [{"variant_id": vid[0], "quantity": 1}], k)
    assert r1.status == 201 and r2.status == 201 and r2.json() == r1.json(), (r1, r2)
    assert r2.header("idempotent-replayed") == "true", r2
    assert stock(s, pid)[0][vid[0]] == after[vid[0]] - 1
    problem(order(s, [{"variant_id": vid[0], "quantity": 2}], k), 422, "idempotency-key-reuse")
    # out of stock: 409 naming the short variant; nothing changes
    n0, st = counts(db_url), stock(s, pid)[0]
    r = order(s, [{"variant_id": vid[0], "quantity": 1}, {"variant_id": vid[1], "quantity": 100}],
              H(a))
    body = problem(r, 409, "out-of-stock")
    assert [e["field"] for e in body["errors"]] == ["variants/%d" % vid[1]], body
    assert counts(db_url) == n0 and stock(s, pid)[0] == st
    # mixed currencies: 422
    r = order(s, [{"variant_id": vid[0], "quantity": 1}, {"variant_id": other, "quantity": 1}],
              H(a))
    problem(r, 422, "validation")
    assert counts(db_url) == n0 and stock(s, pid)[0] == st
    # an anonymous caller with no id gets one, and sees its order with it
    r = order(s, [{"variant_id": vid[0], "quantity": 1}])
    assert r.status == 201, r
    new_id = r.header("x-anonymous-id")
    assert new_id and s.request("GET", "/api/v1/orders/%d" % r.json()["id"],
                                headers=H(new_id)).status == 200
    problem(s.request("GET", "/api/v1/orders/%d" % r.json()["id"], headers=H(a)), 404,
            "not-found")


def test_customer(s, db_url, vid, gone_vid):
    email = "direct-buyer@example.com"
    r = s.request("POST", "/api/v1/auth/register", {"email": email, "password": PW})
    assert r.status in (200, 201, 202), r
    r = s.request("POST", "/api/v1/auth/login", {"email": email, "password": PW})
    assert r.status == 200, r
    bearer = {"Authorization": "Bearer " + r.json()["access_token"]}
    r = order(s, [{"variant_id": vid[0], "quantity": 1}], bearer)
    assert r.status == 201, r
    o = r.json()
    assert o["user_id"] and o["email"] == email, o
    mine = s.request("GET", "/api/v1/orders", headers=bearer).json()["items"]
    assert [x["id"] for x in mine] == [o["id"]], mine
    # a withdrawn product is not sold (409, nothing changes)
    n0 = counts(db_url)
    body = problem(order(s, [{"variant_id": gone_vid, "quantity": 1}], bearer), 409,
                   "out-of-stock")
    assert body["errors"][0]["field"] == "variants/%d" % gone_vid, body
    assert counts(db_url) == n0


def oversell(s, db_url, slug, units, each):
    """SHOPPERS concurrent direct orders of `each` units of a variant with `units`,
    each also ordering one unit of a plentiful second variant (two products locked)."""
    pid, (vid,) = make_product(s, slug, [{"sku": slug.upper(), "stock": units}])
    pid2, (vid2,) = make_product(s, slug + "-plenty", [{"sku": slug.upper() + "-P",
                                                        "stock": 1000}])
    results = [None] * SHOPPERS
    barrier = threading.Barrier(SHOPPERS)

    def shop(i):
        conn = s.connect(timeout=120)
        items = [{"variant_id": vid2, "quantity": 1}, {"sku": slug.upper(), "quantity": each}]
        if i % 2:
            items.reverse()
        barrier.wait()
        try:
            results[i] = s.request("POST", "/api/v1/orders", {"items": items}, H(anon(i, slug)),
                                   conn=conn)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e
        conn.close()

    threads = [threading.Thread(target=shop, args=(i,)) for i in range(SHOPPERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if getattr(r, "status", None) == 201]
    lost = [r for r in results if getattr(r, "status", None) == 409]
    assert len(won) + len(lost) == SHOPPERS, [r for r in results if r not in won + lost][:3]
    assert len(won) == units // each, (len(won), units, each)
    for r in lost:
        body = problem(r, 409, "out-of-stock")
        assert [e["field"] for e in body["errors"]] == ["variants/%d" % vid], body
    left = stock(s, pid)[0][vid]
    assert left == units % each, left
    assert stock(s, pid2)[0][vid2] == 1000 - len(won)
    for v, initial in ((vid, units), (vid2, 1000)):
        sold = sql(db_url, "SELECT COALESCE(SUM(quantity), 0), COUNT(DISTINCT order_id)"
                   " FROM order_lines WHERE variant_id = %d" % v, fetch=True)
        now = sql(db_url, "SELECT stock FROM variants WHERE id = %d" % v, fetch=True)
        assert int(sold[0][0]) + int(now[0][0]) == initial, (v, sold, now)
        assert int(sold[0][1]) == len(won), (v, sold)
    neg = sql(db_url, "SELECT COUNT(*) FROM variants WHERE stock < 0", fetch=True)
    assert int(neg[0][0]) == 0
    print("direct oversell %s: %d shoppers x %d at %d units -> %d orders, %d x 409, stock %d" %
          (slug, SHOPPERS, each, units, len(won), len(lost), left))


def run(framefit, db_url):
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_HTTP_WORKERS": "16",
           "FRAMEFIT_DB_POOL_SIZE": "16", "FRAMEFIT_WORKERS": "1",
           "FRAMEFIT_RATELIMIT_API": "0/0", "FRAMEFIT_RATELIMIT_AUTH_IP": "0/0"}
    with Server(framefit, db_url=db_url, env=env) as s:
        pid, vid = make_product(s, "direct", [
            {"sku": "DIRECT-A", "stock": 50, "price_cents": 1000},
            {"sku": "DIRECT-B", "stock": 50, "price_cents": 2500, "size": "L"}])
        _, (other,) = make_product(s, "direct-usd", [{"sku": "DIRECT-USD", "stock": 5,
                                                      "currency": "USD"}])
        gone_pid, (gone_vid,) = make_product(s, "direct-gone", [{"sku": "DIRECT-GONE",
                                                                 "stock": 5}])
        r = s.request("DELETE", "/api/v1/products/%d" % gone_pid,
                      headers=dict(STAFF, **{"If-Match": "*"}))
        assert r.status in (200, 204), r
        test_bad_bodies(s, db_url, pid, vid)
        test_orders(s, db_url, pid, vid, other)
        test_customer(s, db_url, vid, gone_vid)
        oversell(s, db_url, "direct-last", 5, 1)
        oversell(s, db_url, "direct-pairs", 7, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    run(a.framefit, fresh_db(a.pg, "it_checkout_direct"))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
