#!/usr/bin/env python3
"""test_subscriptions.py --framefit BIN [--pg] - the merchant plan over real HTTP.

framefit talks to its own Stripe stand-in (tests/stripe/fake_stripe.py, started
here: its failure injection is global, so a private instance keeps parallel
tests apart), which delivers signed webhooks to framefit's webhook endpoint.

Covers: roles (admin creates/cancels, staff reads, customers and anonymous
callers refused), validation, Stripe down while creating the subscription
(503 + Retry-After, the customer already stored, the retry finishes with ONE
customer and ONE subscription at Stripe), a Stripe 500 after the work (the
client's retry gets Stripe's replay), Idempotency-Key replay, a second POST
while incomplete (same subscription, client secret again), 409 when active,
invoice.paid / invoice.payment_failed / customer.subscription.updated /
deleted through signed webhooks, duplicate and out-of-order deliveries,
events for an unknown subscription, cancel at period end and at once, Stripe
refusing a price (422, nothing left half-open), a new plan after cancel
reusing the customer, framefit SIGKILLed after Stripe created the subscription
but before it heard back (the POST after the restart finishes with that same
subscription), a customer deleted at Stripe (one 502, then a new one), six
concurrent POSTs with different keys (one customer, one subscription, all get
it), and no Stripe key at all (reads work, changes are 503)."""
import argparse
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
from ffharness import fresh_db, Server  # noqa: E402

TOKEN = "it-subs-admin-token-0123456789abcdef"
ADMIN = {"Authorization": "Bearer " + TOKEN}
WHSEC = "whsec_it_subs_0123456789abcdef"
PRICE = "price_tryon_monthly"
PATH = "/api/v1/merchant/subscription"
FAKE = os.path.join(HERE, "..", "stripe", "fake_stripe.py")


class Stripe:
    """A private fake_stripe.py."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ff-subs-stripe-")
        pf = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--port-file", pf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not os.path.exists(pf):
            assert time.time() < deadline and self.proc.poll() is None, "stand-in did not start"
            time.sleep(0.05)
        self.url = "http://127.0.0.1:" + open(pf).read().strip()

    def ctl(self, path, body=None):
        req = urllib.request.Request(self.url + "/__control/" + path,
                                     data=json.dumps(body or {}).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def count(self, what):
        return self.ctl("state")[what]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def problem(r, status, slug=None):
    assert r.status == status, r
    assert r.header("content-type").startswith("application/problem+json"), r
    if slug:
        assert r.json()["type"] == "https://framefit.dev/problems/" + slug, r.json()
    return r.json()


def sql(db_url, q, args=()):
    if db_url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(db_url[len("sqlite://"):], timeout=30)
        rows = con.execute(q.replace("%s", "?"), args).fetchall()
        con.close()
        return rows
    for a in args:  # test values only (ids we made), quoted for psql
        q = q.replace("%s", "'" + str(a).replace("'", "''") + "'", 1)
    p = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", db_url, "-c", q], check=True,
                       capture_output=True, text=True)
    return [tuple(line.split("|")) for line in p.stdout.splitlines()]


def wait_for(fn, what, timeout=20):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def plan(s, headers=ADMIN):
    r = s.request("GET", PATH, headers=headers)
    assert r.status == 200, r
    return r.json()


def wait_plan(s, pred, what):
    return wait_for(lambda: (lambda p: p if pred(p) else None)(plan(s)), what)


def event_outcome(db_url, event_id):
    rows = sql(db_url, "SELECT outcome FROM merchant_subscription_events WHERE event_id = %s",
               (event_id,))
    return rows[0][0] if rows else None


def wait_event(db_url, event_id):
    return wait_for(lambda: event_outcome(db_url, event_id), "event " + event_id)


def user_token(s, email, role):
    pw = "correct horse battery staple 42"
    r = s.request("POST", "/api/v1/auth/register", {"email": email, "password": pw})
    assert r.status == 202, r
    r = s.request("POST", "/api/v1/auth/login", {"email": email, "password": pw})
    assert r.status == 200, r
    uid = r.json()["user"]["id"]
    if role != "customer":
        r = s.request("PATCH", "/api/v1/admin/users/%d" % uid, {"role": role}, ADMIN)
        assert r.status == 200, r
        r = s.request("POST", "/api/v1/auth/login", {"email": email, "password": pw})
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def t_access_and_validation(s):
    p = plan(s)
    assert p["status"] == "none" and p["service_enabled"] is False, p
    assert p["subscription_id"] is None and p["last_invoice"] is None, p
    staff = user_token(s, "staff-subs@example.com", "staff")
    cust = user_token(s, "cust-subs@example.com", "customer")
    body = {"email": "owner@shop.example"}
    problem(s.request("POST", PATH, body), 401, "unauthorized")
    problem(s.request("POST", PATH, body, staff), 403, "forbidden")
    problem(s.request("POST", PATH, body, cust), 403, "forbidden")
    problem(s.request("DELETE", PATH, headers=staff), 403, "forbidden")
    problem(s.request("GET", PATH, headers=cust), 403, "forbidden")
    problem(s.request("GET", PATH), 401, "unauthorized")
    assert plan(s, staff)["status"] == "none"
    for bad, field in [({}, "email"), ({"email": "no-at-sign"}, "email"),
                       ({"email": "a@b.example", "price_id": "price with space"}, "price_id"),
                       ({"email": "a@b.example", "price_id": 5}, "price_id"),
                       ({"email": "a@b.example", "plan": "gold"}, "plan")]:
        p = problem(s.request("POST", PATH, bad, ADMIN), 422, "validation")
        assert field in [e["field"] for e in p["errors"]], (bad, p)
    problem(s.request("DELETE", PATH, headers=ADMIN), 404, "not-found")
    problem(s.request("DELETE", PATH + "?at_once=maybe", headers=ADMIN), 422, "validation")
    return staff


def t_create(s, st, db_url, staff):
    """Stripe down during the subscription call, then a 500 after the work."""
    st.ctl("fail_path", {"prefix": "/v1/subscriptions", "method": "POST", "count": 3,
                         "status": 500})
    k1 = {"Idempotency-Key": "plan-1", **ADMIN}
    body = {"email": "owner@shop.example", "name": "Shop Owner"}
    r = s.request("POST", PATH, body, k1)
    p = problem(r, 503)
    assert r.header("retry-after"), r.headers
    assert "retry" in p["detail"], p
    assert st.count("customers") == 1 and st.count("subscriptions") == 0
    p = plan(s)
    assert p["pending"] is True and p["customer_id"].startswith("cus_"), p
    customer = p["customer_id"]
    # the retry: Stripe does the work and then answers 500; the client's own
    # retry (same Stripe idempotency key) gets Stripe's replay
    st.ctl("fail", {"count": 1, "status": 500, "mode": "after"})
    r = s.request("POST", PATH, body, k1)
    assert r.status == 201, r
    created = r.json()
    assert created["status"] == "incomplete" and created["service_enabled"] is False, created
    assert created["client_secret"].startswith("pi_"), created
    assert created["customer_id"] == customer and created["price_id"] == PRICE, created
    sub = created["subscription_id"]
    assert sub.startswith("sub_"), created
    assert st.count("customers") == 1 and st.count("subscriptions") == 1
    # the same key replays; another key while incomplete gives the same subscription
    r = s.request("POST", PATH, body, k1)
    assert r.status == 201 and r.header("idempotent-replayed") == "true", r
    assert r.json()["subscription_id"] == sub
    r = s.request("POST", PATH, body, {"Idempotency-Key": "plan-2", **ADMIN})
    assert r.status == 200, r
    assert r.json()["subscription_id"] == sub, r.json()
    assert r.json()["client_secret"] == created["client_secret"], r.json()
    assert st.count("customers") == 1 and st.count("subscriptions") == 1
    # a different price while one is open: 409
    problem(s.request("POST", PATH, dict(body, price_id="price_other"), ADMIN), 409, "conflict")
    rows = sql(db_url, "SELECT COUNT(*) FROM merchant_subscriptions")
    assert int(rows[0][0]) == 1, rows
    p = plan(s, staff)
    assert p["status"] == "incomplete" and p["pending"] is False, p
    assert p["warning"], p
    return sub


def t_webhooks(s, st, db_url, sub):
    # the first invoice is paid -> active
    evs = st.ctl("invoice", {"subscription": sub, "outcome": "paid"})["events"]
    paid = lambda p: p["last_invoice"] and p["last_invoice"]["status"] == "paid"  # noqa: E731
    p = wait_plan(s, lambda p: p["status"] == "active" and paid(p), "active")
    assert p["service_enabled"] is True and p["warning"] is None, p
    assert p["last_invoice"]["status"] == "paid" and p["last_invoice"]["amount_cents"] == 4900, p
    assert p["current_period_end"], p
    for e in evs:
        assert wait_event(db_url, e["id"]) in ("applied", "stale"), e
    problem(s.request("POST", PATH, {"email": "owner@shop.example"}, ADMIN), 409, "conflict")

    # a renewal fails -> past_due, still on (grace) with a warning
    time.sleep(1.1)  # a new second: the renewal is newer than the state above
    evs = st.ctl("invoice", {"subscription": sub, "outcome": "failed", "cycle": True})["events"]
    p = wait_plan(s, lambda p: p["status"] == "past_due" and p["last_invoice"]["failure"],
                  "past_due")
    assert p["service_enabled"] is True and p["warning"], p
    assert p["last_invoice"]["failure"] == "Your card was declined.", p
    assert p["past_due_since"], p
    # paid on Stripe's retry, delivered three times: applied once, active
    time.sleep(1.1)
    evs = st.ctl("invoice", {"subscription": sub, "outcome": "paid", "deliver": 3})["events"]
    p = wait_plan(s, lambda p: p["status"] == "active" and paid(p), "active again")
    for e in evs:
        wait_event(db_url, e["id"])
    time.sleep(0.5)  # let the duplicate deliveries land
    for e in evs:
        n = sql(db_url, "SELECT COUNT(*) FROM merchant_subscription_events WHERE event_id = %s",
                (e["id"],))
        assert int(n[0][0]) == 1, (e["id"], n)
    assert p["past_due_since"] is None and p["last_invoice"]["failure"] is None, p

    # out of order: the newer state arrives first, the older one is ignored
    now = int(time.time()) + 1
    obj = {"id": sub, "object": "subscription", "status": "past_due",
           "cancel_at_period_end": False}
    newer = st.ctl("event_at", {"type": "customer.subscription.updated", "object": obj,
                                "created": now})
    assert wait_event(db_url, newer["id"]) == "applied"
    older = st.ctl("event_at", {"type": "invoice.paid", "created": now - 5, "object": {
        "id": "in_old", "object": "invoice", "subscription": sub, "status": "paid",
        "amount_paid": 4900, "currency": "eur"}})
    assert wait_event(db_url, older["id"]) == "stale"
    p = plan(s)
    assert p["status"] == "past_due" and p["last_invoice"]["id"] != "in_old", p
    # same second: the subscription object's own state wins over an invoice
    # (whose details are still recorded as the last invoice)
    same = st.ctl("event_at", {"type": "invoice.paid", "created": now, "object": {
        "id": "in_same", "object": "invoice", "subscription": sub, "status": "paid",
        "amount_paid": 4900, "currency": "eur"}})
    assert wait_event(db_url, same["id"]) == "applied"
    p = plan(s)
    assert p["status"] == "past_due" and p["last_invoice"]["id"] == "in_same", p
    # the object again (same second) says active: applied
    fix = st.ctl("event_at", {"type": "customer.subscription.updated", "created": now,
                              "object": dict(obj, status="active")})
    assert wait_event(db_url, fix["id"]) == "applied"
    assert plan(s)["status"] == "active"
    # an unknown subscription: recorded, nothing changes
    unk = st.ctl("event_at", {"type": "invoice.paid", "created": now + 1, "object": {
        "id": "in_x", "object": "invoice", "subscription": "sub_not_ours"}})
    assert wait_event(db_url, unk["id"]) == "unknown"
    assert plan(s)["status"] == "active"
    while time.time() < now + 1.1:  # later real events are newer than these
        time.sleep(0.1)


def t_cancel(s, st, db_url, sub):
    # Stripe down: 503, nothing changes
    st.ctl("fail", {"count": 3, "status": 503, "mode": "before"})
    r = s.request("DELETE", PATH, headers=ADMIN)
    problem(r, 503)
    assert r.header("retry-after"), r.headers
    assert plan(s)["cancel_at_period_end"] is False
    # at period end: still active until then
    r = s.request("DELETE", PATH, headers=ADMIN)
    assert r.status == 200, r
    p = r.json()
    assert p["cancel_at_period_end"] is True and p["status"] == "active", p
    assert p["service_enabled"] is True, p
    r = s.request("DELETE", PATH, headers=ADMIN)  # again: nothing more to do
    assert r.status == 200 and r.json()["cancel_at_period_end"] is True, r
    # at once
    r = s.request("DELETE", PATH + "?at_once=true", headers=ADMIN)
    assert r.status == 200, r
    p = r.json()
    assert p["status"] == "canceled" and p["service_enabled"] is False, p
    assert p["canceled_at"], p
    wait_for(lambda: sql(db_url, "SELECT outcome FROM merchant_subscription_events WHERE"
                                 " type = 'customer.subscription.deleted'"), "deleted event")
    problem(s.request("DELETE", PATH, headers=ADMIN), 404, "not-found")
    # canceled is final: a newer paid invoice changes nothing
    late = st.ctl("event_at", {"type": "invoice.paid", "created": int(time.time()) + 3,
                               "object": {"id": "in_late", "object": "invoice",
                                          "subscription": sub}})
    assert wait_event(db_url, late["id"]) == "stale"
    assert plan(s)["status"] == "canceled"


def t_after_cancel(s, st, db_url):
    body = {"email": "owner@shop.example"}
    # Stripe refuses the price: 422 on price_id, nothing left open
    p = problem(s.request("POST", PATH, dict(body, price_id="plan_gold"), ADMIN), 422,
                "validation")
    assert p["errors"][0]["field"] == "price_id", p
    p = plan(s)
    assert p["pending"] is False and p["last_error"], p
    # a new plan on the configured price, with the merchant's customer
    r = s.request("POST", PATH, body, {"Idempotency-Key": "plan-3", **ADMIN})
    assert r.status == 201, r
    assert r.json()["status"] == "incomplete" and r.json()["client_secret"], r.json()
    assert st.count("customers") == 1 and st.count("subscriptions") == 2
    sub2 = r.json()["subscription_id"]
    st.ctl("invoice", {"subscription": sub2, "outcome": "paid"})
    wait_plan(s, lambda p: p["status"] == "active" and p["subscription_id"] == sub2, "new plan")
    rows = sql(db_url, "SELECT COUNT(*) FROM merchant_subscriptions")
    assert int(rows[0][0]) == 3, rows  # the canceled, the refused, the active one


def hook(s, st):
    st.ctl("webhook", {"url": "http://127.0.0.1:%d/api/v1/payments/stripe/webhook" % s.port,
                       "secret": WHSEC})


def t_crash(framefit, db_url, st, env):
    """framefit dies after Stripe created the subscription but before the answer
    arrived: after the restart the next POST finishes with that subscription."""
    body = {"email": "owner@shop.example"}
    with Server(framefit, db_url=db_url, env=env) as s:
        hook(s, st)
        r = s.request("DELETE", PATH + "?at_once=true", headers=ADMIN)
        assert r.status == 200 and r.json()["status"] == "canceled", r
        before = st.count("subscriptions")
        st.ctl("fail_path", {"prefix": "/v1/subscriptions", "method": "POST", "count": 1,
                             "mode": "hang_after", "hang_s": 20})

        def doomed():
            try:
                s.request("POST", PATH, body, {"Idempotency-Key": "crash-1", **ADMIN})
            except OSError:
                pass  # the server is killed under it
        t = threading.Thread(target=doomed)
        t.start()
        wait_for(lambda: st.count("subscriptions") == before + 1, "the subscription at Stripe")
        s.proc.kill()  # SIGKILL: no chance to store anything more
        s.proc.wait()
        s.proc = None
        t.join()
    with Server(framefit, db_url=db_url, env=env) as s:
        hook(s, st)
        p = plan(s)
        assert p["pending"] is True and p["subscription_id"] is None, p
        r = s.request("POST", PATH, body, {"Idempotency-Key": "crash-2", **ADMIN})
        assert r.status == 201, r
        assert r.json()["status"] == "incomplete" and r.json()["client_secret"], r.json()
        assert st.count("subscriptions") == before + 1 and st.count("customers") == 1
        st.ctl("invoice", {"subscription": r.json()["subscription_id"], "outcome": "paid"})
        wait_plan(s, lambda p: p["status"] == "active", "active after the crash")
        t_customer_gone(s, st)


def t_customer_gone(s, st):
    """The customer was deleted at Stripe: one 502, then a new customer."""
    r = s.request("DELETE", PATH + "?at_once=true", headers=ADMIN)
    assert r.status == 200, r
    cus = r.json()["customer_id"]
    req = urllib.request.Request(st.url + "/v1/customers/" + cus, method="DELETE",
                                 headers={"Authorization": "Bearer sk_test_it_subs"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["deleted"] is True
    body = {"email": "owner@shop.example"}
    problem(s.request("POST", PATH, body, ADMIN), 502, "payment-provider-error")
    # six admins at once (other Idempotency-Keys): one attempt, one customer, one
    # subscription at Stripe, everyone gets it
    before = st.count("subscriptions")
    out = [None] * 6

    def one(i):
        out[i] = s.request("POST", PATH, body, {"Idempotency-Key": "race-%d" % i, **ADMIN})
    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(out))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(r.status in (200, 201) for r in out), out
    subs = {r.json()["subscription_id"] for r in out}
    assert len(subs) == 1, subs
    assert out[0].json()["customer_id"] != cus and st.count("customers") == 1, out[0].json()
    assert st.count("subscriptions") == before + 1


def t_not_configured(framefit, db_url):
    """No FRAMEFIT_STRIPE_SECRET_KEY: reading works, changing is a 503."""
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_WORKERS": "0"}
    with Server(framefit, db_url=db_url, env=env) as s:
        assert plan(s)["status"] == "incomplete", plan(s)  # as the runs above left it
        r = s.request("POST", PATH, {"email": "owner@shop.example", "price_id": PRICE}, ADMIN)
        problem(r, 503, "payments-unavailable")
        assert r.header("retry-after"), r.headers
        problem(s.request("DELETE", PATH, headers=ADMIN), 503, "payments-unavailable")
        # no price configured and none given: 422
        p = problem(s.request("POST", PATH, {"email": "owner@shop.example"}, ADMIN), 422,
                    "validation")
        assert p["errors"][0]["field"] == "price_id", p


def run(framefit, db_url):
    st = Stripe()
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_STRIPE_API_URL": st.url,
           "FRAMEFIT_STRIPE_SECRET_KEY": "sk_test_it_subs", "FRAMEFIT_STRIPE_WEBHOOK_SECRET": WHSEC,
           "FRAMEFIT_STRIPE_PRICE_ID": PRICE, "FRAMEFIT_WORKERS": "1",
           "FRAMEFIT_RATELIMIT_AUTH_IP": "1000/1000"}
    try:
        with Server(framefit, db_url=db_url, env=env) as s:
            hook(s, st)
            staff = t_access_and_validation(s)
            sub = t_create(s, st, db_url, staff)
            t_webhooks(s, st, db_url, sub)
            t_cancel(s, st, db_url, sub)
            t_after_cancel(s, st, db_url)
        t_crash(framefit, db_url, st, env)
    finally:
        st.stop()
    t_not_configured(framefit, db_url)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    run(a.framefit, fresh_db(a.pg, "it_subs"))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
