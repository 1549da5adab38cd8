#!/usr/bin/env python3
"""test_payments.py --framefit BIN [--pg] - Stripe payments over real HTTP.

framefit runs against its own Stripe stand-in (tests/stripe/fake_stripe.py,
started here on a free port rather than the shared "stripe" fixture, so this
test's failure injection and webhook target never leak into other tests that
run at the same time). The stand-in delivers signed webhooks to the framefit
under test.

Covers: the webhook (signature good / bad / stale / several v1 / malformed
header / missing header / oversized / not JSON / missing fields / unknown
type, duplicate delivery applied once, not configured -> 503), payment
intents (one intent per order across retries and double clicks, Stripe down
before / after / hanging, declined), event application (succeeded -> paid
once, payment_failed, amount mismatch, out-of-order refund before success,
dispute, payment after cancellation refunded automatically), refunds
(staff only, full / partial / over-refund / 404), the payment view and
customer cancel (stock returned, intent cancelled)."""
import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ffharness  # noqa: E402
from ffharness import Server, check_problem  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(ROOT, "tests", "stripe", "fake_stripe.py")
TOKEN = "it-payments-admin-token-0123456789"
STAFF = {"Authorization": "Bearer " + TOKEN}
WHSEC = "whsec_it_payments_0123456789abcdef"
SK = "sk_test_it_payments_0123456789"
HOOK = "/api/v1/payments/stripe/webhook"


# -- the Stripe stand-in ---------------------------------------------------------

class FakeStripe:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ff-fake-stripe-")
        pf = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "log"), "w")
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--port-file", pf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(pf).read().strip()

    def control(self, path, body=None):
        req = urllib.request.Request(self.url + "/__control/" + path,
                                     data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def state(self):
        return self.control("state")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


# -- helpers -------------------------------------------------------------------------

def sign(body, t=None, secret=WHSEC):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def event(typ, obj, eid=None):
    return {"id": eid or "evt_it_%s" % os.urandom(8).hex(), "object": "event", "type": typ,
            "created": int(time.time()), "data": {"object": obj}}


def post_event(s, ev, sig=None, raw=None):
    body = raw if raw is not None else json.dumps(ev).encode()
    h = {"Content-Type": "application/json",
         "Stripe-Signature": sig if sig is not None else sign(body)}
    return s.request("POST", HOOK, body, h)


def wait_for(what, fn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def sql(db_url, q):
    if db_url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(db_url[len("sqlite://"):], timeout=30)
        rows = con.execute(q).fetchall()
        con.commit()
        con.close()
        return rows
    p = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", db_url, "-c", q], check=True,
                       capture_output=True, text=True)
    return [tuple(line.split("|")) for line in p.stdout.splitlines()]


# -- the webhook ---------------------------------------------------------------------

def test_webhook(s, db_url):
    ev = event("product.created", {"id": "prod_1"})
    body = json.dumps(ev).encode()
    r = post_event(s, ev)
    assert r.status == 200 and r.json() == {"received": True, "id": ev["id"],
                                            "result": "ignored"}, r
    # the same event again: nothing happens, 200
    r = post_event(s, ev)
    assert r.status == 200 and r.json()["result"] == "duplicate", r
    assert sql(db_url, "SELECT COUNT(*), MIN(result) FROM stripe_events WHERE id = '%s'"
               % ev["id"])[0] in [(1, "ignored"), ("1", "ignored")]
    # several v1: one of them matches
    good = sign(body).split(",")[1]
    t = int(time.time())
    two = "t=%d,v1=%s,v1=%s" % (t, "0" * 64, hmac.new(WHSEC.encode(), ("%d." % t).encode() + body,
                                                       hashlib.sha256).hexdigest())
    r = post_event(s, ev, sig=two)
    assert r.status == 200 and r.json()["result"] == "duplicate", r
    # wrong secret, stale, future, tampered body, malformed, missing
    for sig, why in [(sign(body, secret="whsec_other"), "does not verify"),
                     (sign(body, t=t - 301), "does not verify"),
                     (sign(body, t=t + 400), "does not verify"),
                     ("t=%d,v1=%s" % (t, "0" * 64), "does not verify"),
                     ("v1=" + good[3:], "malformed"),
                     ("t=abc," + good, "malformed"),
                     ("garbage", "malformed"),
                     ("t=%d" % t, "")]:
        r = post_event(s, ev, sig=sig)
        p = check_problem(r, 400, "webhook-signature")
        assert why in p["detail"], (sig, p)
        assert WHSEC not in r.body.decode(), r
    tampered = body.replace(b"prod_1", b"prod_2")
    p = check_problem(post_event(s, None, sig=sign(body), raw=tampered), 400, "webhook-signature")
    r = s.request("POST", HOOK, body, {"Content-Type": "application/json"})
    assert "missing" in check_problem(r, 400, "webhook-signature")["detail"], r
    # signed but not an event
    for raw, why in [(b"{not json", "not JSON"), (b"[]", "not a JSON object"),
                     (b'{"type": "x", "data": {"object": {}}}', "no id"),
                     (b'{"id": "evt_1", "data": {"object": {}}}', "no type"),
                     (b'{"id": "evt_1", "type": "x", "data": {}}', "data.object"),
                     (b'{"id": "evt_1", "type": "x", "type": "y", "data": {"object": {}}}',
                      "not JSON"),
                     (b'{"id": "' + b"e" * 300 + b'", "type": "x", "data": {"object": {}}}',
                      "no id")]:
        p = check_problem(post_event(s, None, raw=raw), 400, "bad-request")
        assert why in p["detail"], (raw, p)
    # oversized (over 256 KB)
    big = json.dumps(event("product.created", {"pad": "x" * (300 * 1024)})).encode()
    check_problem(post_event(s, None, raw=big), 413)
    # nothing of the refused ones was recorded
    n = sql(db_url, "SELECT COUNT(*) FROM stripe_events")[0][0]
    assert int(n) == 1, n



# -- orders to pay ---------------------------------------------------------------------

def make_product(s, slug, stock=50, price=2490):
    body = {"slug": slug, "name": "Pay Frame " + slug, "brand": "Pay", "description": "x",
            "shape": "round", "material": "acetate", "colour": "black",
            "measurements": {"lens_width_mm": 49, "bridge_mm": 20, "temple_mm": 145,
                             "lens_height_mm": 44},
            "variants": [{"sku": slug.upper(), "colour": "black", "size": "M", "currency": "EUR",
                          "price_cents": price, "stock": stock}]}
    r = s.request("POST", "/api/v1/products", body, STAFF)
    assert r.status == 201, r
    return r.json()["id"], r.json()["variants"][0]["id"]


def shopper(i):
    return ("pay-shopper-%06d-" % i + "y" * 30)[:40]


def A(a, extra=None):
    h = {"X-Anonymous-Id": a}
    h.update(extra or {})
    return h


def order(s, vid, who, qty=1):
    r = s.request("POST", "/api/v1/cart/items", {"variant_id": vid, "quantity": qty}, A(who))
    assert r.status == 200, r
    r = s.request("POST", "/api/v1/orders", None, A(who))
    assert r.status == 201, r
    return r.json()


def stock_of(s, pid):
    return s.request("GET", "/api/v1/products/%d" % pid).json()["variants"][0]["stock"]


def get_order(s, oid):
    r = s.request("GET", "/api/v1/orders/%d" % oid, headers=STAFF)
    assert r.status == 200, r
    return r.json()


def payment(s, oid, h=STAFF):
    r = s.request("GET", "/api/v1/orders/%d/payment" % oid, headers=h)
    assert r.status == 200, r
    return r.json()


def events(s, oid):
    r = s.request("GET", "/api/v1/orders/%d/events" % oid, headers=STAFF)
    assert r.status == 200, r
    return r.json()["items"]


def intent(s, oid, who, status=201):
    r = s.request("POST", "/api/v1/orders/%d/payment-intent" % oid, None, A(who))
    assert r.status == status, r
    return r.json()


def n_intents(fake):
    return fake.state()["payment_intents"]


def wait_status(s, oid, status):
    return wait_for("order %d to become %s" % (oid, status),
                    lambda: get_order(s, oid)["status"] == status)


def pi_object(pi, amount, status="succeeded", oid=None, currency="eur", received=None):
    o = {"id": pi, "object": "payment_intent", "amount": amount, "currency": currency,
         "status": status, "amount_received": amount if received is None else received,
         "metadata": {"order_id": str(oid)} if oid else {}}
    return o


def charge_object(pi, amount, refunded, oid=None):
    return {"id": "ch_" + pi, "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": refunded, "refunded": refunded == amount, "payment_intent": pi,
            "currency": "eur", "metadata": {"order_id": str(oid)} if oid else {}}


# -- payment intents -----------------------------------------------------------------------

def test_intents(s, fake, db_url, vid):
    who = shopper(1)
    o = order(s, vid, who)
    n0 = n_intents(fake)
    pi = intent(s, o["id"], who)
    assert pi["payment_intent_id"].startswith("pi_") and "_secret_" in pi["client_secret"], pi
    assert pi["amount_cents"] == o["total_cents"] and pi["currency"] == "eur", pi
    assert pi["status"] == "requires_payment_method" and pi["order_id"] == o["id"], pi
    again = intent(s, o["id"], who, 200)
    assert again["payment_intent_id"] == pi["payment_intent_id"], again
    assert again["client_secret"] == pi["client_secret"], again
    assert n_intents(fake) == n0 + 1
    # staff may too; strangers get 404; no such order 404
    assert s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None,
                     STAFF).status == 200
    check_problem(s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None,
                            A(shopper(999))), 404, "not-found")
    check_problem(s.request("POST", "/api/v1/orders/999999/payment-intent", None, STAFF), 404)
    # double clicks: 8 at once, one intent
    o2 = order(s, vid, who)
    n0 = n_intents(fake)
    got = []

    def click():
        r = s.request("POST", "/api/v1/orders/%d/payment-intent" % o2["id"], None, A(who))
        got.append((r.status, r.json().get("payment_intent_id")))
    ts = [threading.Thread(target=click) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert all(st in (200, 201) for st, _ in got) and len({p for _, p in got}) == 1, got
    assert n_intents(fake) == n0 + 1
    rows = sql(db_url, "SELECT COUNT(*) FROM payments WHERE order_id = %d" % o2["id"])
    assert int(rows[0][0]) == 1, rows
    # the intent was canceled at Stripe (dashboard) while the order is unpaid: a new one
    o3 = order(s, vid, who)
    old = intent(s, o3["id"], who)["payment_intent_id"]
    stripe_cancel(fake, old)
    new = intent(s, o3["id"], who)
    assert new["payment_intent_id"] != old and new["status"] == "requires_payment_method", new
    assert intent(s, o3["id"], who, 200)["payment_intent_id"] == new["payment_intent_id"]
    assert payment(s, o3["id"])["payment"]["payment_intent_id"] == new["payment_intent_id"]
    fake.control("pay", {"payment_intent": new["payment_intent_id"]})
    wait_status(s, o3["id"], "paid")
    return o, pi


def stripe_cancel(fake, pi):
    req = urllib.request.Request(fake.url + "/v1/payment_intents/%s/cancel" % pi, data=b"",
                                 method="POST", headers={"Authorization": "Bearer " + SK})
    return json.loads(urllib.request.urlopen(req).read())


def test_stripe_down(s, fake, db_url, vid):
    who = shopper(2)
    # down before the work: every attempt fails -> 503 + Retry-After, order still pending
    o = order(s, vid, who)
    n0 = n_intents(fake)
    fake.control("fail", {"count": 3, "status": 500, "mode": "before"})
    r = s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None, A(who))
    p = check_problem(r, 503, "payments-unavailable")
    assert r.header("retry-after") and "retry" in p["detail"], r
    assert get_order(s, o["id"])["status"] == "pending_payment"
    assert n_intents(fake) == n0 and payment(s, o["id"])["payment"] is None
    pi = intent(s, o["id"], who)  # Stripe is back: one intent
    assert n_intents(fake) == n0 + 1
    # the work happened but the answer was lost: the retry with the same key gets it
    o = order(s, vid, who)
    n0 = n_intents(fake)
    fake.control("fail", {"count": 1, "status": 500, "mode": "after"})
    pi = intent(s, o["id"], who)
    assert n_intents(fake) == n0 + 1, "a second intent was created"
    # Stripe hangs: timeouts, 503, nothing created; then one intent
    o = order(s, vid, who)
    n0 = n_intents(fake)
    fake.control("fail", {"count": 3, "status": 500, "mode": "hang"})
    r = s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None, A(who))
    check_problem(r, 503, "payments-unavailable")
    assert get_order(s, o["id"])["status"] == "pending_payment"
    fake.control("fail", {"count": 0})
    pi2 = intent(s, o["id"], who)
    assert n_intents(fake) == n0 + 1 and pi2["payment_intent_id"] != pi["payment_intent_id"]
    # Stripe refuses (a 4xx): 502 with Stripe's message, not retried
    o = order(s, vid, who)
    fake.control("fail", {"count": 1, "status": 402, "mode": "before"})
    r = s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None, A(who))
    p = check_problem(r, 502, "payment-provider-error")
    assert "An unknown error occurred" in p["detail"], p
    assert SK not in r.body.decode()
    pi = intent(s, o["id"], who)


def test_events(s, fake, db_url, vid):
    who = shopper(3)
    # succeeded, delivered three times: paid exactly once, by "stripe"
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)
    ev = fake.control("pay", {"payment_intent": pi["payment_intent_id"], "deliver": 3})
    wait_status(s, o["id"], "paid")
    wait_for("3 deliveries", lambda: sum(1 for line in s.log_lines()
                                         if "already processed" in line.get("msg", "")) >= 2
             or int(sql(db_url, "SELECT COUNT(*) FROM stripe_events WHERE id = '%s'"
                        % ev["id"])[0][0]) == 1)
    time.sleep(0.5)
    paid = [e for e in events(s, o["id"]) if e["to"] == "paid"]
    assert len(paid) == 1 and paid[0]["actor"] == "stripe", events(s, o["id"])
    pay = payment(s, o["id"], A(who))["payment"]
    assert pay["status"] == "succeeded" and pay["amount_received_cents"] == o["total_cents"], pay
    assert "attention" not in pay, pay  # staff only
    # a stale payment_failed for the same intent afterwards changes nothing
    r = post_event(s, event("payment_intent.payment_failed",
                            pi_object(pi["payment_intent_id"], o["total_cents"],
                                      "requires_payment_method", o["id"], received=0)))
    assert r.status == 200 and r.json()["result"] == "applied", r
    assert get_order(s, o["id"])["status"] == "paid"
    assert payment(s, o["id"])["payment"]["status"] == "succeeded"
    paid_order = o

    # payment failed: the reason is kept, the order stays pending; then it succeeds
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)
    fake.control("pay", {"payment_intent": pi["payment_intent_id"], "outcome": "failed"})
    wait_for("last_error", lambda: payment(s, o["id"])["payment"]["last_error"])
    assert "card_declined" in payment(s, o["id"])["payment"]["last_error"]
    assert get_order(s, o["id"])["status"] == "pending_payment"
    fake.control("pay", {"payment_intent": pi["payment_intent_id"]})
    wait_status(s, o["id"], "paid")

    # amount mismatch: recorded for staff, not paid
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    r = post_event(s, event("payment_intent.succeeded", pi_object(pi, 100, oid=o["id"])))
    assert r.status == 200, r
    assert get_order(s, o["id"])["status"] == "pending_payment"
    att = payment(s, o["id"])["payment"]["attention"]
    assert "mismatch" in att and "100" in att, att
    assert any("mismatch" in e["reason"] for e in events(s, o["id"])), events(s, o["id"])
    r = post_event(s, event("payment_intent.succeeded", pi_object(pi, o["total_cents"],
                                                                   oid=o["id"], currency="usd")))
    assert get_order(s, o["id"])["status"] == "pending_payment"
    assert "usd" in payment(s, o["id"])["payment"]["attention"]

    # out of order: the refund arrives before the success -> paid, then partially refunded
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    half = o["total_cents"] // 2
    r = post_event(s, event("charge.refunded", charge_object(pi, o["total_cents"], half)))
    assert r.status == 200 and r.json()["result"] == "applied", r
    got = get_order(s, o["id"])
    assert got["status"] == "partially_refunded" and got["refunded_cents"] == half, got
    for ev in [event("payment_intent.succeeded", pi_object(pi, o["total_cents"], oid=o["id"])),
               event("charge.refunded", charge_object(pi, o["total_cents"], half - 1))]:
        assert post_event(s, ev).status == 200
    got = get_order(s, o["id"])
    assert got["status"] == "partially_refunded" and got["refunded_cents"] == half, got
    assert [e["to"] for e in events(s, o["id"])] == ["pending_payment", "paid",
                                                     "partially_refunded"], events(s, o["id"])
    post_event(s, event("charge.refunded", charge_object(pi, o["total_cents"], o["total_cents"])))
    got = get_order(s, o["id"])
    assert got["status"] == "refunded" and got["refunded_cents"] == o["total_cents"], got
    # a full refund only event for an order whose intent row we never wrote (by metadata)
    o = order(s, vid, who)
    pi = "pi_external_%d" % o["id"]
    post_event(s, event("charge.refunded", charge_object(pi, o["total_cents"], o["total_cents"],
                                                         oid=o["id"])))
    assert get_order(s, o["id"])["status"] == "refunded"

    # dispute on the paid order: flagged once, noted
    for _ in range(2):
        r = post_event(s, event("charge.dispute.created", {
            "id": "dp_1", "object": "dispute", "amount": paid_order["total_cents"],
            "currency": "eur", "reason": "fraudulent",
            "payment_intent": payment(s, paid_order["id"])["payment"]["payment_intent_id"]}))
        assert r.status == 200, r
    assert get_order(s, paid_order["id"])["disputed"] is True
    assert payment(s, paid_order["id"])["payment"]["disputed"] is True
    notes = [e for e in events(s, paid_order["id"]) if "dispute" in e["reason"]]
    assert len(notes) == 1 and "fraudulent" in notes[0]["reason"], notes

    # events for intents nobody knows, and malformed objects: recorded, ignored, 200
    for ev in [event("payment_intent.succeeded", pi_object("pi_nobody", 100)),
               event("payment_intent.succeeded", pi_object("pi_nobody2", 100, oid=999999)),
               event("charge.refunded", {"id": "ch_x", "amount": "lots"})]:
        r = post_event(s, ev)
        assert r.status == 200 and r.json()["result"] == "applied", r
        note = sql(db_url, "SELECT note FROM stripe_events WHERE id = '%s'" % ev["id"])[0][0]
        assert note.startswith("ignored"), note
    return paid_order


def test_concurrent(s, fake, db_url, vid):
    """Deliveries at the same moment: one event 8 times (applied once), and a
    success racing its refund for one order (no deadlock, same end state)."""
    who = shopper(8)
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    ev = event("payment_intent.succeeded", pi_object(pi, o["total_cents"], oid=o["id"]))
    body = json.dumps(ev).encode()
    results = []

    def deliver(b):
        r = s.request("POST", HOOK, b, {"Content-Type": "application/json",
                                        "Stripe-Signature": sign(b)})
        results.append((r.status, r.json().get("result")))
    ts = [threading.Thread(target=deliver, args=(body,)) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert sorted(results) == [(200, "applied")] + [(200, "duplicate")] * 7, results
    assert [e["to"] for e in events(s, o["id"])] == ["pending_payment", "paid"]
    for k in range(3):
        o = order(s, vid, who)
        pi = intent(s, o["id"], who)["payment_intent_id"]
        evs = [event("payment_intent.succeeded", pi_object(pi, o["total_cents"], oid=o["id"])),
               event("charge.refunded", charge_object(pi, o["total_cents"], 100)),
               event("charge.refunded", charge_object(pi, o["total_cents"], 200)),
               event("charge.dispute.created", {"payment_intent": pi, "amount": 5,
                                                "reason": "general"})]
        results = []
        ts = [threading.Thread(target=deliver, args=(json.dumps(e).encode(),)) for e in evs]
        [t.start() for t in ts]
        [t.join() for t in ts]
        assert all(r == (200, "applied") for r in results), results
        got = get_order(s, o["id"])
        assert got["status"] == "partially_refunded" and got["refunded_cents"] == 200, got
        assert got["disputed"] is True, got


def fake_intent(fake, pi):
    req = urllib.request.Request(fake.url + "/v1/payment_intents/" + pi,
                                 headers={"Authorization": "Bearer " + SK})
    return json.loads(urllib.request.urlopen(req).read())


def test_expired_intent(s, fake, db_url, vid):
    """The reservation expires while the intent is open: the order is
    cancelled (orders.expire) and payments.cancel_stale cancels the intent at
    Stripe, so the shopper cannot pay for it any more."""
    who = shopper(9)
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    sql(db_url, "UPDATE orders SET reserved_until = 1 WHERE id = %d" % o["id"])
    sql(db_url, "UPDATE job_schedules SET next_run_at = 0 WHERE name = 'orders.expire'")
    wait_status(s, o["id"], "cancelled")
    sql(db_url, "UPDATE job_schedules SET next_run_at = 0 WHERE name = 'payments.cancel_stale'")
    wait_for("the intent to be cancelled",
             lambda: payment(s, o["id"])["payment"]["status"] == "canceled")
    assert fake_intent(fake, pi)["status"] == "canceled"


def test_list(s, fake, db_url):
    """Staff list payments to look at: flagged for attention, disputed, by status."""
    r = s.request("GET", "/api/v1/payments?attention=true", headers=STAFF)
    assert r.status == 200, r
    items = r.json()["items"]
    assert items and all(i["attention"] for i in items), items
    assert any("mismatch" in i["attention"] for i in items), items
    assert any("cancelled" in i["attention"] for i in items), items
    d = s.request("GET", "/api/v1/payments?disputed=true&limit=200", headers=STAFF).json()
    assert d["items"] and all(i["disputed"] for i in d["items"]), d
    ok = s.request("GET", "/api/v1/payments?status=succeeded&attention=false&limit=2",
                   headers=STAFF).json()
    assert len(ok["items"]) == 2 and ok["next_cursor"], ok
    assert all(i["status"] == "succeeded" and i["attention"] is None for i in ok["items"]), ok
    nxt = s.request("GET", "/api/v1/payments?status=succeeded&attention=false&limit=2&cursor="
                    + ok["next_cursor"], headers=STAFF).json()
    assert nxt["items"][0]["order_id"] < ok["items"][-1]["order_id"], nxt
    for q in ["attention=maybe", "status=BAD", "limit=0", "cursor=x"]:
        check_problem(s.request("GET", "/api/v1/payments?" + q, headers=STAFF), 422,
                      "validation")
    r = s.request("GET", "/api/v1/payments", headers=A(shopper(1)))
    assert r.status in (401, 403), r


def test_late_payment(s, fake, db_url, vid):
    """An order cancelled (reservation expiry, staff) whose payment then
    succeeds: flagged for staff and refunded in full automatically."""
    who = shopper(4)
    # keep payments.cancel_stale away meanwhile (it would cancel the open intent)
    sql(db_url, "UPDATE job_schedules SET next_run_at = 99999999999999 WHERE name ="
        " 'payments.cancel_stale'")
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    r = s.request("POST", "/api/v1/orders/%d/status" % o["id"], {"status": "cancelled"}, STAFF)
    assert r.status == 200, r
    fake.control("pay", {"payment_intent": pi})
    pay = wait_for("the automatic refund", lambda: (
        lambda p: p if p["payment"]["amount_refunded_cents"] == o["total_cents"] and
        p["refunds"] else None)(
            payment(s, o["id"])))
    assert "cancelled" in pay["payment"]["attention"], pay
    assert len(pay["refunds"]) == 1 and pay["refunds"][0]["actor"] == "system", pay
    assert get_order(s, o["id"])["status"] == "cancelled"
    assert any("refunded automatically" in e["reason"] for e in events(s, o["id"]))


# -- refunds ----------------------------------------------------------------------------------

def customer_token(s):
    email = "pay-customer@example.com"
    pw = "correct horse battery staple 9"
    r = s.request("POST", "/api/v1/auth/register", {"email": email, "password": pw})
    assert r.status == 202, r
    r = s.request("POST", "/api/v1/auth/login", {"email": email, "password": pw})
    assert r.status == 200, r
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def test_refunds(s, fake, db_url, vid):
    who = shopper(5)
    o = order(s, vid, who, qty=2)
    total = o["total_cents"]
    pi = intent(s, o["id"], who)["payment_intent_id"]
    path = "/api/v1/orders/%d/refunds" % o["id"]
    # not paid yet
    check_problem(s.request("POST", path, {}, STAFF), 409, "conflict")
    fake.control("pay", {"payment_intent": pi})
    wait_status(s, o["id"], "paid")
    # who may refund: staff only
    r = s.request("POST", path, {"amount_cents": 100}, A(who))
    assert r.status in (401, 403), r
    check_problem(s.request("POST", path, {"amount_cents": 100}, customer_token(s)), 403)
    check_problem(s.request("POST", "/api/v1/orders/999999/refunds", {}, STAFF), 404)
    # bad bodies
    p = check_problem(s.request("POST", path, {"amount_cents": total + 1}, STAFF), 422,
                      "validation")
    assert p["errors"][0]["field"] == "amount_cents" and str(total) in p["errors"][0]["reason"]
    check_problem(s.request("POST", path, {"amount_cents": 0}, STAFF), 422, "validation")
    check_problem(s.request("POST", path, {"amount_cents": "5"}, STAFF), 422, "validation")
    check_problem(s.request("POST", path, {"amount": 5}, STAFF), 422, "validation")
    # Stripe down: 503, nothing refunded
    fake.control("fail", {"count": 3, "status": 503, "mode": "before"})
    check_problem(s.request("POST", path, {"amount_cents": 500}, STAFF), 503,
                  "payments-unavailable")
    assert get_order(s, o["id"])["status"] == "paid"
    # partial: updated at once, the webhook later changes nothing more
    r = s.request("POST", path, {"amount_cents": 500, "reason": "scratched lens"}, STAFF)
    assert r.status == 201, r
    v = r.json()
    assert v["order_status"] == "partially_refunded" and v["refunded_cents"] == 500, v
    assert v["refunds"][0]["amount_cents"] == 500 and v["refunds"][0]["reason"] == \
        "scratched lens", v
    assert v["refunds"][0]["actor"].startswith("admin"), v
    time.sleep(1)  # the stand-in's charge.refunded webhook arrives
    ev = [e for e in events(s, o["id"]) if e["to"] == "partially_refunded"]
    # whichever applies it first (the refund's answer: staff; the webhook: stripe), once
    assert len(ev) == 1 and ev[0]["actor"].split(":")[0] in ("admin", "stripe"), \
        events(s, o["id"])
    # a retry with the same Idempotency-Key replays; over what is left is a 422
    key = {"Idempotency-Key": "refund-retry-1"}
    r1 = s.request("POST", path, {"amount_cents": 300}, dict(STAFF, **key))
    r2 = s.request("POST", path, {"amount_cents": 300}, dict(STAFF, **key))
    assert r1.status == 201 and r2.status == 201 and r2.header("idempotent-replayed"), r2
    assert len(payment(s, o["id"])["refunds"]) == 2
    check_problem(s.request("POST", path, {"amount_cents": total - 799}, STAFF), 422)
    # Stripe refuses (e.g. a refund made in the Dashboard we have not heard of): 502
    fake.control("fail", {"count": 1, "status": 400, "mode": "before"})
    p = check_problem(s.request("POST", path, {}, STAFF), 502, "payment-provider-error")
    assert "Stripe refused" in p["detail"], p
    # the rest, with the webhook held back: the answer moves the order (actor
    # staff); the charge.refunded delivered afterwards changes nothing
    fake.control("webhook", {"url": "http://127.0.0.1:9/nowhere", "secret": WHSEC})
    r = s.request("POST", path, {}, STAFF)
    fake.control("webhook", {"url": "http://127.0.0.1:%d%s" % (s.port, HOOK), "secret": WHSEC})
    assert r.status == 201 and r.json()["order_status"] == "refunded", r
    assert r.json()["refunded_cents"] == total and len(r.json()["refunds"]) == 3, r
    last = events(s, o["id"])[-1]
    assert last["to"] == "refunded" and last["actor"] == "admin:break-glass", last
    pi = payment(s, o["id"])["payment"]["payment_intent_id"]
    r = post_event(s, event("charge.refunded", charge_object(pi, total, total)))
    assert r.status == 200 and r.json()["result"] == "applied", r
    assert events(s, o["id"])[-1] == last
    check_problem(s.request("POST", path, {}, STAFF), 409, "conflict")
    time.sleep(1)
    got = get_order(s, o["id"])
    assert got["status"] == "refunded" and got["refunded_cents"] == total, got
    assert fake.state()["refunds"] >= 3
    # two staff refunding different amounts at the same moment: never more refunded
    # than the successful answers say, Stripe and framefit agree
    o2 = order(s, vid, who, qty=2)
    pi = intent(s, o2["id"], who)["payment_intent_id"]
    fake.control("pay", {"payment_intent": pi})
    wait_status(s, o2["id"], "paid")
    path2 = "/api/v1/orders/%d/refunds" % o2["id"]
    out = []

    def refund(cents):
        r = s.request("POST", path2, {"amount_cents": cents}, STAFF)
        out.append((r.status, cents))
    ts = [threading.Thread(target=refund, args=(c,)) for c in (100, 200, 300)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert all(st in (201, 409) for st, _ in out) and any(st == 201 for st, _ in out), out
    done = sum(c for st, c in out if st == 201)
    v = payment(s, o2["id"])
    assert v["payment"]["amount_refunded_cents"] == done, (out, v)
    assert sum(x["amount_cents"] for x in v["refunds"]) == done, (out, v)
    time.sleep(1)
    assert get_order(s, o2["id"])["refunded_cents"] == done
    # the owner sees the payment; strangers do not
    v = payment(s, o["id"], A(who))
    assert v["payment"]["amount_refunded_cents"] == total and len(v["refunds"]) == 3, v
    check_problem(s.request("GET", "/api/v1/orders/%d/payment" % o["id"],
                            headers=A(shopper(998))), 404)


# -- customer cancel -----------------------------------------------------------------------------

def test_cancel(s, fake, db_url, pid, vid):
    who = shopper(6)
    before = stock_of(s, pid)
    o = order(s, vid, who, qty=2)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    assert stock_of(s, pid) == before - 2
    check_problem(s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], {},
                            A(shopper(997))), 404)
    r = s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], {"reason": "changed my mind"},
                  A(who))
    assert r.status == 200 and r.json()["status"] == "cancelled", r
    assert stock_of(s, pid) == before
    ev = events(s, o["id"])[-1]
    assert ev["to"] == "cancelled" and ev["actor"] == "anon" and ev["reason"] == \
        "changed my mind", ev
    assert fake_intent(fake, pi)["status"] == "canceled"
    assert payment(s, o["id"])["payment"]["status"] == "canceled"
    p = check_problem(s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(who)),
                      409, "invalid-transition")
    assert "cancelled" in p["detail"], p
    assert stock_of(s, pid) == before  # returned once
    # the intent was canceled at Stripe already (Stripe answers 400 to a second cancel)
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    assert stripe_cancel(fake, pi)["status"] == "canceled"
    r = s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(who))
    assert r.status == 200 and r.json()["status"] == "cancelled", r
    # without an intent; and a paid order cannot be cancelled this way
    o = order(s, vid, who)
    r = s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(who))
    assert r.status == 200 and r.json()["status"] == "cancelled", r
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    fake.control("pay", {"payment_intent": pi})
    wait_status(s, o["id"], "paid")
    check_problem(s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(who)), 409,
                  "invalid-transition")
    # paid at Stripe but the webhook is late: cancel refuses, nothing changes
    o = order(s, vid, who)
    pi = intent(s, o["id"], who)["payment_intent_id"]
    fake.control("webhook", {"url": "http://127.0.0.1:9/nowhere", "secret": WHSEC})
    fake.control("pay", {"payment_intent": pi})
    p = check_problem(s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(who)),
                      409, "invalid-transition")
    assert "paid" in p["detail"], p
    assert get_order(s, o["id"])["status"] == "pending_payment"
    fake.control("webhook", {"url": "http://127.0.0.1:%d%s" % (s.port, HOOK), "secret": WHSEC})


def test_bad_config(framefit):
    """Bad Stripe settings stop serve at start with a reason that never
    echoes the value."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEFIT_")}
    for name, value in [("FRAMEFIT_STRIPE_SECRET_KEY", "pk_live_publishableSECRET1"),
                        ("FRAMEFIT_STRIPE_WEBHOOK_SECRET", "notawhsecSECRET2"),
                        ("FRAMEFIT_STRIPE_API_URL", "ftp://stripe.example"),
                        ("FRAMEFIT_STRIPE_API_URL", "https://api.stripe.com/"),
                        ("FRAMEFIT_STRIPE_TIMEOUT_MS", "5")]:
        env = dict(base, **{name: value, "FRAMEFIT_DATA_DIR": tempfile.mkdtemp()})
        p = subprocess.run([framefit, "serve"], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2 and name in p.stderr, (name, p.returncode, p.stderr)
        if "SECRET" in value:
            assert value not in p.stderr, p.stderr


def test_unconfigured(framefit, db_url):
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_WORKERS": "0"}
    with Server(framefit, db_url=db_url, env=env) as s:
        ev = event("payment_intent.succeeded", {"id": "pi_x"})
        r = post_event(s, ev)
        p = check_problem(r, 503, "payments-unavailable")
        assert "FRAMEFIT_STRIPE_WEBHOOK_SECRET" in p["detail"] and r.header("retry-after"), r
        pid, vid = make_product(s, "pay-off")
        o = order(s, vid, shopper(7))
        r = s.request("POST", "/api/v1/orders/%d/payment-intent" % o["id"], None,
                      A(shopper(7)))
        p = check_problem(r, 503, "payments-unavailable")
        assert "not configured" in p["detail"], p
        # cancel without an intent needs no Stripe
        r = s.request("POST", "/api/v1/orders/%d/cancel" % o["id"], None, A(shopper(7)))
        assert r.status == 200 and r.json()["status"] == "cancelled", r
    return s


def run(framefit, db_url):
    fake = FakeStripe()
    try:
        env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_WORKERS": "1",
               "FRAMEFIT_JOBS_POLL_MS": "50", "FRAMEFIT_HTTP_WORKERS": "8",
               "FRAMEFIT_STRIPE_API_URL": fake.url, "FRAMEFIT_STRIPE_SECRET_KEY": SK,
               "FRAMEFIT_STRIPE_WEBHOOK_SECRET": WHSEC, "FRAMEFIT_STRIPE_TIMEOUT_MS": "1500"}
        with Server(framefit, db_url=db_url, env=env) as s:
            log = s.read_log()
            assert SK not in log and WHSEC not in log, "a Stripe secret was logged"
            fake.control("webhook", {"url": "http://127.0.0.1:%d%s" % (s.port, HOOK),
                                     "secret": WHSEC})
            test_webhook(s, db_url)
            pid, vid = make_product(s, "pay-a", stock=500)
            test_intents(s, fake, db_url, vid)
            test_stripe_down(s, fake, db_url, vid)
            test_events(s, fake, db_url, vid)
            test_concurrent(s, fake, db_url, vid)
            test_late_payment(s, fake, db_url, vid)
            test_expired_intent(s, fake, db_url, vid)
            test_list(s, fake, db_url)
            test_refunds(s, fake, db_url, vid)
            test_cancel(s, fake, db_url, pid, vid)
            assert SK not in s.read_log() and WHSEC not in s.read_log()
    except BaseException:
        with open(os.path.join(fake.tmp, "log")) as f:
            sys.stderr.write("---- fake stripe log ----\n" + f.read()[-4000:] + "\n")
        raise
    finally:
        fake.stop()


def fresh_db(pg, tag=""):
    return ffharness.fresh_db(pg, "it_payments%s_%d" % (tag, os.getpid()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    dbs = [fresh_db(a.pg), fresh_db(a.pg, "_off")]
    run(a.framefit, dbs[0])
    test_unconfigured(a.framefit, dbs[1])
    test_bad_config(a.framefit)
    if a.pg:
        for url in dbs:
            base, name = url.rsplit("/", 1)
            subprocess.run(["psql", base + "/postgres", "-qc",
                            "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                           capture_output=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
