#!/usr/bin/env python3
"""test_orders.py --framefit BIN [--pg] - carts and checkout over real HTTP.

Cart per anonymous shopper and per user (lazy merge on sign-in is covered by
the accounts-aware part later), cart view flags (price changed, stock short),
checkout (prices copied, stock taken, cart emptied, Idempotency-Key replay),
one currency per order (422), order visibility (owner, staff; others 404),
expiry of unpaid orders' reservations (stock returned exactly once), and THE
oversell proof: 64 concurrent checkouts over HTTP at the last units of a
variant sell exactly those units, leave stock at 0 (never negative), and every
loser gets a 409 out-of-stock problem naming the variant."""
import argparse
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402

TOKEN = "it-orders-admin-token-0123456789"
STAFF = {"Authorization": "Bearer " + TOKEN}
SHOPPERS = 64


def anon(i, tag=""):
    return ("shopper-%s-%04d-" % (tag, i) + "x" * 22)[:40]


def H(a=None, key=None):
    h = {}
    if a:
        h["X-Anonymous-Id"] = a
    if key:
        h["Idempotency-Key"] = key
    return h


def problem(r, status, slug):
    assert r.status == status, r
    assert r.header("content-type").startswith("application/problem+json"), r
    assert r.json()["type"] == "https://framefit.dev/problems/" + slug, r.json()
    return r.json()


def sql(db_url, q, fetch=False):
    if db_url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(db_url[len("sqlite://"):], timeout=30)
        cur = con.execute(q)
        rows = cur.fetchall() if fetch else None
        con.commit()
        con.close()
        return rows
    p = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", db_url, "-c", q], check=True,
                       capture_output=True, text=True)
    return [tuple(line.split("|")) for line in p.stdout.splitlines()] if fetch else None


def make_product(s, slug, variants):
    body = {"slug": slug, "name": "Order Frame " + slug, "brand": "Orders", "description": "x",
            "shape": "round", "material": "acetate", "colour": "black",
            "measurements": {"lens_width_mm": 49, "bridge_mm": 20, "temple_mm": 145,
                             "lens_height_mm": 44},
            "variants": [dict({"colour": "black", "size": "M", "currency": "EUR",
                               "price_cents": 9900}, **v) for v in variants]}
    r = s.request("POST", "/api/v1/products", body, STAFF)
    assert r.status == 201, r
    p = r.json()
    return p["id"], [v["id"] for v in p["variants"]]


def stock(s, pid):
    p = s.request("GET", "/api/v1/products/%d" % pid).json()
    return {v["id"]: v["stock"] for v in p["variants"]}, p["in_stock"]


def test_cart(s, db_url):
    pid, (v1, v2) = make_product(s, "cart-a", [
        {"sku": "CART-A1", "stock": 5},
        {"sku": "CART-A2", "stock": 2, "size": "L", "price_cents": 12900}])
    _, (v3,) = make_product(s, "cart-usd", [{"sku": "CART-USD", "stock": 9, "currency": "USD"}])
    a = anon(1, "cart")
    r = s.request("GET", "/api/v1/cart", headers=H(a))
    assert r.status == 200 and r.json()["items"] == [] and r.json()["subtotal_cents"] == 0, r
    # no id at all: the server hands one out
    r = s.request("POST", "/api/v1/cart/items", {"variant_id": v1})
    assert r.status == 200, r
    given = r.header("x-anonymous-id")
    assert given and len(given) >= 22 and "ff_anon=" + given in r.header("set-cookie"), r.headers
    assert s.request("GET", "/api/v1/cart", headers=H(given)).json()["count"] == 1

    r = s.request("POST", "/api/v1/cart/items", {"variant_id": v1, "quantity": 2}, H(a))
    assert r.status == 200, r
    r = s.request("POST", "/api/v1/cart/items", {"variant_id": v1}, H(a))
    assert r.json()["items"][0]["quantity"] == 3, r
    problem(s.request("POST", "/api/v1/cart/items", {"variant_id": v2, "quantity": 3}, H(a)),
            409, "out-of-stock")
    problem(s.request("POST", "/api/v1/cart/items", {"variant_id": 999999}, H(a)), 404,
            "not-found")
    problem(s.request("POST", "/api/v1/cart/items", {"variant_id": v1, "quantity": 0}, H(a)),
            422, "validation")
    problem(s.request("POST", "/api/v1/cart/items", {"variant_id": "1"}, H(a)), 422,
            "validation")
    problem(s.request("POST", "/api/v1/cart/items", {"variant_id": v1, "x": 1}, H(a)), 422,
            "validation")
    r = s.request("POST", "/api/v1/cart/items", b"{not json", dict(H(a), **{
        "Content-Type": "application/json"}))
    assert r.status == 400, r
    r = s.request("POST", "/api/v1/cart/items", {"variant_id": v2, "quantity": 2}, H(a))
    cart = r.json()
    assert cart["count"] == 5 and cart["subtotal_cents"] == 3 * 9900 + 2 * 12900, cart
    assert cart["currency"] == "EUR" and not cart["mixed_currencies"], cart
    # set, remove, unknown line
    r = s.request("PUT", "/api/v1/cart/items/%d" % v2, {"quantity": 1}, H(a))
    assert r.status == 200 and r.json()["count"] == 4, r
    problem(s.request("PUT", "/api/v1/cart/items/%d" % v3, {"quantity": 1}, H(a)), 404,
            "not-found")
    problem(s.request("PUT", "/api/v1/cart/items/%d" % v2, {"quantity": 101}, H(a)), 422,
            "validation")
    r = s.request("DELETE", "/api/v1/cart/items/%d" % v2, headers=H(a))
    assert r.status == 200 and r.json()["count"] == 3, r
    problem(s.request("DELETE", "/api/v1/cart/items/%d" % v2, headers=H(a)), 404, "not-found")
    problem(s.request("DELETE", "/api/v1/cart/items/abc", headers=H(a)), 422, "validation")

    # flags: price changed, stock short
    sql(db_url, "UPDATE variants SET price_cents = 10900, stock = 2 WHERE id = %d" % v1)
    line = s.request("GET", "/api/v1/cart", headers=H(a)).json()["items"][0]
    assert line["price_changed"] and line["unit_price_cents"] == 10900, line
    assert line["price_when_added_cents"] == 9900 and line["stock_short"], line
    # short at checkout: 409 naming the variant, nothing changes
    body = problem(s.request("POST", "/api/v1/orders", None, H(a)), 409, "out-of-stock")
    assert body["errors"][0]["field"] == "variants/%d" % v1, body
    assert stock(s, pid)[0][v1] == 2
    assert s.request("GET", "/api/v1/cart", headers=H(a)).json()["count"] == 3

    # mixed currencies: 422, nothing changes
    sql(db_url, "UPDATE variants SET stock = 5 WHERE id = %d" % v1)
    s.request("POST", "/api/v1/cart/items", {"variant_id": v3}, H(a))
    body = problem(s.request("POST", "/api/v1/orders", None, H(a)), 422, "validation")
    assert "currency" in body["detail"], body
    s.request("DELETE", "/api/v1/cart/items/%d" % v3, headers=H(a))

    # checkout: prices copied, stock taken, cart emptied, replay with the same key
    r = s.request("POST", "/api/v1/orders", None, H(a, key="co-1"))
    assert r.status == 201, r
    order = r.json()
    assert order["status"] == "pending_payment" and order["currency"] == "EUR", order
    assert order["total_cents"] == 3 * 10900 and order["lines"][0]["unit_price_cents"] == 10900
    assert r.header("location") == "/api/v1/orders/%d" % order["id"], r.headers
    assert order["reserved_until"], order
    r2 = s.request("POST", "/api/v1/orders", None, H(a, key="co-1"))
    assert r2.status == 201 and r2.body == r.body, (r, r2)
    assert r2.header("idempotent-replayed") == "true", r2.headers
    n = sql(db_url, "SELECT COUNT(*) FROM orders WHERE anon_id = '%s'" % a, fetch=True)
    assert int(n[0][0]) == 1, n
    assert stock(s, pid)[0][v1] == 2
    assert s.request("GET", "/api/v1/cart", headers=H(a)).json()["items"] == []
    problem(s.request("POST", "/api/v1/orders", None, H(a)), 422, "validation")  # empty cart
    problem(s.request("POST", "/api/v1/orders"), 422, "validation")  # no shopper at all
    problem(s.request("POST", "/api/v1/orders", {"x": 1}, H(a)), 422, "validation")

    # visibility: the shopper, staff; anyone else gets 404
    path = "/api/v1/orders/%d" % order["id"]
    assert s.request("GET", path, headers=H(a)).json()["id"] == order["id"]
    assert s.request("GET", path, headers=STAFF).status == 200
    problem(s.request("GET", path, headers=H(anon(2, "cart"))), 404, "not-found")
    problem(s.request("GET", path), 404, "not-found")
    problem(s.request("GET", "/api/v1/orders/0", headers=H(a)), 422, "validation")
    ev = sql(db_url, "SELECT from_status, to_status, actor FROM order_events WHERE order_id = %d"
             % order["id"], fetch=True)
    assert len(ev) == 1 and ev[0][1] == "pending_payment", ev
    jobs = sql(db_url, "SELECT COUNT(*) FROM jobs WHERE type = 'order.event'", fetch=True)
    assert int(jobs[0][0]) >= 1, jobs
    return pid, v1, a, order["id"]


def test_expiry(s, db_url, pid, vid, oid):
    before = stock(s, pid)[0][vid]
    sql(db_url, "UPDATE orders SET reserved_until = 1 WHERE id = %d" % oid)
    sql(db_url, "UPDATE job_schedules SET next_run_at = 0 WHERE name = 'orders.expire'")
    deadline = time.time() + 30
    while time.time() < deadline:
        if s.request("GET", "/api/v1/orders/%d" % oid, headers=STAFF).json()["status"] == \
                "cancelled":
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the expired order was not cancelled")
    assert stock(s, pid)[0][vid] == before + 3
    # exactly once: running the job again returns nothing more
    sql(db_url, "UPDATE job_schedules SET next_run_at = 0 WHERE name = 'orders.expire'")
    time.sleep(2.5)
    assert stock(s, pid)[0][vid] == before + 3
    ev = sql(db_url, "SELECT to_status, actor FROM order_events WHERE order_id = %d ORDER BY id"
             % oid, fetch=True)
    assert [e[0] for e in ev] == ["pending_payment", "cancelled"], ev
    rel = sql(db_url, "SELECT COUNT(*) FROM stock_reservations WHERE order_id = %d AND"
              " released_at IS NULL" % oid, fetch=True)
    assert int(rel[0][0]) == 0, rel


def oversell(s, db_url, slug, units, each):
    """SHOPPERS shoppers each want `each` units of a variant that has `units`."""
    pid, (vid,) = make_product(s, slug, [{"sku": slug.upper(), "stock": units}])
    shoppers = [anon(i, slug) for i in range(SHOPPERS)]
    # fill the carts while stock is plenty, then cut it down to the last units
    sql(db_url, "UPDATE variants SET stock = %d WHERE id = %d" % (SHOPPERS * each, vid))
    for a in shoppers:
        r = s.request("POST", "/api/v1/cart/items", {"variant_id": vid, "quantity": each}, H(a))
        assert r.status == 200, r
    sql(db_url, "UPDATE variants SET stock = %d WHERE id = %d" % (units, vid))
    results = [None] * SHOPPERS
    barrier = threading.Barrier(SHOPPERS)

    def shop(i):
        conn = s.connect(timeout=120)
        barrier.wait()
        try:
            results[i] = s.request("POST", "/api/v1/orders", None, H(shoppers[i]), conn=conn)
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
        assert any(e["field"] == "variants/%d" % vid for e in body["errors"]), body
    left, in_stock = stock(s, pid)
    assert left[vid] == units % each, left
    assert in_stock == (units % each > 0), in_stock
    sold = sql(db_url, "SELECT COALESCE(SUM(ol.quantity), 0) FROM order_lines ol"
               " WHERE ol.variant_id = %d" % vid, fetch=True)
    assert int(sold[0][0]) == (units // each) * each, sold
    neg = sql(db_url, "SELECT COUNT(*) FROM variants WHERE stock < 0", fetch=True)
    assert int(neg[0][0]) == 0
    print("oversell %s: %d shoppers x %d at %d units -> %d orders, %d x 409, stock %d" %
          (slug, SHOPPERS, each, units, len(won), len(lost), left[vid]))


RX_OK = {"right": {"sphere": -1.25, "cylinder": -0.5, "axis": 90, "add": 1.5},
         "left": {"sphere": -1.0}, "pd": 63.5}
RX_BAD = [
    ({"right": {"sphere": -20.25}}, "right.sphere"),
    ({"right": {"sphere": 1.1}}, "right.sphere"),
    ({"right": {"sphere": 1, "cylinder": -6.25, "axis": 10}}, "right.cylinder"),
    ({"right": {"sphere": 1, "cylinder": -1}}, "right.axis"),
    ({"right": {"sphere": 1, "cylinder": -1, "axis": 181}}, "right.axis"),
    ({"right": {"sphere": 1, "cylinder": -1, "axis": 9.5}}, "right.axis"),
    ({"right": {"sphere": 1, "axis": 90}}, "right.axis"),
    ({"right": {"sphere": 1, "add": 0.5}}, "right.add"),
    ({"right": {"sphere": 1, "add": 3.75}}, "right.add"),
    ({"right": {"sphere": 1}, "pd": 49.5}, "pd"),
    ({"right": {"sphere": 1}, "pd": 63.2}, "pd"),
    ({"right": {"sphere": 1}, "pd_right": 31}, "pd_left"),
    ({"right": {"sphere": 1}, "pd_right": 41, "pd_left": 30}, "pd_right"),
    ({"right": {"sphere": 1}, "pd": 60, "pd_left": 30}, "pd"),
    ({"right": {"sphere": "1"}}, "right.sphere"),
    ({"right": {"sphere": 1, "prism": 2}}, "right.prism"),
    ({"pd": 60}, "right"),
    ({"right": []}, "right"),
]


def test_states(s, db_url):
    pid, (vid,) = make_product(s, "states", [{"sku": "STATES-1", "stock": 10}])
    a, b = anon(1, "st"), anon(2, "st")
    s.request("POST", "/api/v1/cart/items", {"variant_id": vid, "quantity": 2}, H(a))
    order = s.request("POST", "/api/v1/orders", {"email": "ada@example.com"}, H(a)).json()
    oid, line = order["id"], order["lines"][0]["id"]
    path = "/api/v1/orders/%d" % oid
    # prescriptions: valid one stored, each bad field named, others' orders 404
    r = s.request("PUT", path + "/lines/%d/prescription" % line, RX_OK, H(a))
    assert r.status == 200 and r.json()["lines"][0]["prescription"] == RX_OK, r
    for body, field in RX_BAD:
        pr = problem(s.request("PUT", path + "/lines/%d/prescription" % line, body, H(a)), 422,
                     "validation")
        assert field in [e["field"] for e in pr["errors"]], (body, pr)
    problem(s.request("PUT", path + "/lines/%d/prescription" % line, RX_OK, H(b)), 404,
            "not-found")
    problem(s.request("PUT", path + "/lines/999999/prescription", RX_OK, H(a)), 404,
            "not-found")
    # staff only; illegal moves are 409 with the current state
    r = s.request("POST", path + "/status", {"status": "fulfilled"}, H(a))
    assert r.status == 401, r
    pr = problem(s.request("POST", path + "/status", {"status": "shipped", "carrier": "DHL",
                                                      "tracking": "1"}, STAFF), 409,
                 "invalid-transition")
    assert "pending_payment" in pr["detail"], pr
    problem(s.request("POST", path + "/status", {"status": "paid"}, STAFF), 422, "validation")
    problem(s.request("POST", "/api/v1/orders/999999/status", {"status": "fulfilled"}, STAFF),
            404, "not-found")
    sql(db_url, "UPDATE orders SET status = 'paid' WHERE id = %d" % oid)  # payments: step 3
    r = s.request("POST", path + "/status", {"status": "fulfilled"}, STAFF)
    assert r.status == 200 and r.json()["status"] == "fulfilled", r
    problem(s.request("PUT", path + "/lines/%d/prescription" % line, RX_OK, H(a)), 409,
            "invalid-transition")
    pr = problem(s.request("POST", path + "/status", {"status": "shipped"}, STAFF), 422,
                 "validation")
    assert {"carrier", "tracking"} <= {e["field"] for e in pr["errors"]}, pr
    r = s.request("POST", path + "/status", {"status": "shipped", "carrier": "DHL",
                                             "tracking": "JD0001"}, STAFF)
    assert r.status == 200 and r.json()["carrier"] == "DHL", r
    problem(s.request("POST", path + "/status", {"status": "cancelled"}, STAFF), 409,
            "invalid-transition")
    r = s.request("POST", path + "/status", {"status": "delivered"}, STAFF)
    assert r.status == 200 and r.json()["status"] == "delivered", r
    ev = s.request("GET", path + "/events", headers=H(a)).json()["items"]
    assert [e["to"] for e in ev] == ["pending_payment", "fulfilled", "shipped", "delivered"], ev
    assert ev[1]["actor"] == "admin:break-glass" and ev[1]["from"] == "paid", ev
    problem(s.request("GET", path + "/events", headers=H(b)), 404, "not-found")
    mails = sql(db_url, "SELECT template FROM mail_messages WHERE to_addr = 'ada@example.com'",
                fetch=True)
    assert [m[0] for m in mails] == ["order-shipped"], mails
    # staff cancel of an unpaid order returns its stock
    s.request("POST", "/api/v1/cart/items", {"variant_id": vid, "quantity": 3}, H(b))
    o2 = s.request("POST", "/api/v1/orders", None, H(b)).json()
    assert stock(s, pid)[0][vid] == 5
    r = s.request("POST", "/api/v1/orders/%d/status" % o2["id"], {"status": "cancelled",
                                                               "reason": "asked"}, STAFF)
    assert r.status == 200 and r.json()["status"] == "cancelled", r
    assert stock(s, pid)[0][vid] == 8
    problem(s.request("POST", "/api/v1/orders/%d/status" % o2["id"], {"status": "cancelled"},
                      STAFF), 409, "invalid-transition")
    assert stock(s, pid)[0][vid] == 8
    # lists: own orders only; staff filter and page
    mine = s.request("GET", "/api/v1/orders", headers=H(a)).json()["items"]
    assert [o["id"] for o in mine] == [oid], mine
    assert s.request("GET", "/api/v1/orders").json()["items"] == []
    r = s.request("GET", "/api/v1/orders?status=cancelled&limit=100", headers=STAFF).json()
    assert o2["id"] in [o["id"] for o in r["items"]], r
    assert all(o["status"] == "cancelled" for o in r["items"]), r
    first = s.request("GET", "/api/v1/orders?limit=1", headers=STAFF).json()
    nxt = s.request("GET", "/api/v1/orders?limit=1&cursor=" + first["next_cursor"],
                    headers=STAFF).json()
    assert nxt["items"][0]["id"] < first["items"][0]["id"], (first, nxt)
    assert s.request("GET", "/api/v1/orders?from=2999-01-01", headers=STAFF).json()["items"] == []
    assert s.request("GET", "/api/v1/orders?to=2000-01-01T00:00:00Z",
                     headers=STAFF).json()["items"] == []
    problem(s.request("GET", "/api/v1/orders?status=lost", headers=STAFF), 422, "validation")
    problem(s.request("GET", "/api/v1/orders?from=yesterday", headers=STAFF), 422, "validation")
    problem(s.request("GET", "/api/v1/orders?customer=1", headers=H(a)), 422, "validation")
    problem(s.request("GET", "/api/v1/orders?limit=0", headers=STAFF), 422, "validation")


def run(framefit, db_url):
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_HTTP_WORKERS": "16",
           "FRAMEFIT_DB_POOL_SIZE": "16", "FRAMEFIT_WORKERS": "1"}
    with Server(framefit, db_url=db_url, env=env) as s:
        pid, vid, _, oid = test_cart(s, db_url)
        test_expiry(s, db_url, pid, vid, oid)
        test_states(s, db_url)
        oversell(s, db_url, "last-units", 5, 1)
        oversell(s, db_url, "pairs", 7, 2)


def pg_url():
    f = os.environ.get("FF_TEST_PG_URL_FILE", "")
    if not f or not os.path.exists(f):
        print("SKIP: no PostgreSQL test cluster")
        sys.exit(77)
    url = open(f).read().strip()
    base, _ = url.rsplit("/", 1)
    name = "it_orders"
    subprocess.run(["psql", url, "-qc", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                   check=True, capture_output=True)
    subprocess.run(["psql", url, "-qc", "CREATE DATABASE %s" % name], check=True,
                   capture_output=True)
    return base + "/" + name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    if a.pg:
        run(a.framefit, pg_url())
    else:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="ff-orders-it-")
        run(a.framefit, "sqlite://" + os.path.join(tmp, "framefit.db"))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
