#!/usr/bin/env python3
"""A local stand-in for the parts of Stripe's API framefit uses (tests only).

Speaks Stripe's wire format: form-encoded bodies with bracketed keys, Bearer
secret keys, Idempotency-Key semantics (same key + same body -> the first
response replayed with Idempotent-Replayed: true; same key + other body -> 400
idempotency_error with Stripe-Should-Retry: false; a key still in flight -> 409),
JSON errors {"error": {type, code, message, param}}, Request-Id headers.

Objects: payment_intents (create, retrieve, cancel), refunds (full/partial, on a
succeeded intent), customers, subscriptions (items[0][price]).

Test controls under /__control/ (never part of Stripe):
  POST /__control/webhook   {"url", "secret"}        where to deliver events
  POST /__control/pay       {"payment_intent", "outcome": "succeeded"|"failed"}
                            sets the intent's status and delivers the event
  POST /__control/event     {"type", "object", "deliver": n, "delay_ms"}
                            delivers an arbitrary event n times (duplicates)
  POST /__control/fail      {"count", "status", "mode": "before"|"after"|"hang",
                             "should_retry": true|false|null}
                            the next `count` API requests fail: "before" answers
                            `status` without doing anything, "after" does the work
                            and then answers `status` (the client cannot know it
                            happened), "hang" sleeps 30 s (client timeouts)
  GET  /__control/state     counts of objects and requests, the event log
Run: fake_stripe.py --port 0 --port-file FILE  (prints/writes the port).
"""
import argparse
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
S = {
    "payment_intents": {}, "refunds": {}, "customers": {}, "subscriptions": {},
    "idem": {}, "requests": 0, "events": [], "webhook": None, "fail": None,
}


def new_id(prefix):
    return prefix + "_" + secrets.token_hex(12)


def parse_form(body):
    """Stripe-style bracketed keys into nested dicts/lists."""
    out = {}
    for k, v in urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        parts = k.replace("]", "").split("[")
        cur = out
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                cur[p] = v
            else:
                cur = cur.setdefault(p, {})
    return out


def err(status, typ, message, code=None, param=None, retry=None):
    e = {"type": typ, "message": message}
    if code:
        e["code"] = code
    if param:
        e["param"] = param
    return status, {"error": e}, retry


def sign(payload, secret, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def deliver(event, times=1, delay_ms=0):
    hook = S["webhook"]
    S["events"].append(event)
    if not hook:
        return

    def run():
        if delay_ms:
            time.sleep(delay_ms / 1000)
        body = json.dumps(event).encode()
        for _ in range(times):
            req = urllib.request.Request(hook["url"], data=body, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(body, hook["secret"]),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
            try:
                urllib.request.urlopen(req, timeout=10).read()
            except Exception as exc:  # the receiver failing is the test's business
                print(f"fake_stripe: webhook delivery failed: {exc}", file=sys.stderr)
    threading.Thread(target=run, daemon=True).start()


def event(typ, obj):
    return {"id": new_id("evt"), "object": "event", "type": typ, "created": int(time.time()),
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}


def int_param(f, name, lo=0):
    try:
        v = int(f.get(name, ""))
    except ValueError:
        return None
    return v if v >= lo else None


def create_pi(f):
    amount = int_param(f, "amount", 1)
    if amount is None:
        return err(400, "invalid_request_error", "Invalid integer: amount", "parameter_invalid_integer", "amount")
    cur = f.get("currency", "")
    if len(cur) != 3:
        return err(400, "invalid_request_error", "Invalid currency", "parameter_invalid", "currency")
    pid = new_id("pi")
    pi = {"id": pid, "object": "payment_intent", "amount": amount, "currency": cur.lower(),
          "status": "requires_payment_method", "client_secret": pid + "_secret_" + secrets.token_hex(8),
          "metadata": f.get("metadata", {}), "amount_received": 0, "latest_charge": None,
          "created": int(time.time()), "livemode": False}
    S["payment_intents"][pid] = pi
    return 200, pi, None


def create_refund(f):
    pi = S["payment_intents"].get(f.get("payment_intent", ""))
    if not pi:
        return err(400, "invalid_request_error", "No such payment_intent", "resource_missing", "payment_intent")
    if pi["status"] != "succeeded":
        return err(400, "invalid_request_error", "This PaymentIntent has no successful charge", "charge_not_refundable")
    left = pi["amount_received"] - sum(r["amount"] for r in S["refunds"].values() if r["payment_intent"] == pi["id"])
    amount = int_param(f, "amount", 1) if "amount" in f else left
    if amount is None or amount > left:
        return err(400, "invalid_request_error", "Refund amount is greater than unrefunded amount",
                   "amount_too_large", "amount")
    r = {"id": new_id("re"), "object": "refund", "amount": amount, "currency": pi["currency"],
         "payment_intent": pi["id"], "charge": pi["latest_charge"], "status": "succeeded",
         "metadata": f.get("metadata", {}), "created": int(time.time())}
    S["refunds"][r["id"]] = r
    refunded = pi["amount_received"] - left + amount
    charge = {"id": pi["latest_charge"], "object": "charge", "amount": pi["amount_received"],
              "amount_refunded": refunded, "refunded": refunded == pi["amount_received"],
              "payment_intent": pi["id"], "currency": pi["currency"], "metadata": pi["metadata"]}
    deliver(event("charge.refunded", charge))
    return 200, r, None


def create_customer(f):
    c = {"id": new_id("cus"), "object": "customer", "email": f.get("email"), "name": f.get("name"),
         "metadata": f.get("metadata", {}), "created": int(time.time())}
    S["customers"][c["id"]] = c
    return 200, c, None


def create_subscription(f):
    if f.get("customer") not in S["customers"]:
        return err(400, "invalid_request_error", "No such customer", "resource_missing", "customer")
    items = f.get("items", {})
    price = items.get("0", {}).get("price") if isinstance(items, dict) else None
    if not price:
        return err(400, "invalid_request_error", "Missing required param: items[0][price]",
                   "parameter_missing", "items")
    now = int(time.time())
    s = {"id": new_id("sub"), "object": "subscription", "customer": f["customer"], "status": "active",
         "items": {"object": "list", "data": [{"price": {"id": price}}]},
         "current_period_start": now, "current_period_end": now + 30 * 86400,
         "metadata": f.get("metadata", {}), "created": now}
    S["subscriptions"][s["id"]] = s
    return 200, s, None


ROUTES = {
    ("POST", "/v1/payment_intents"): create_pi,
    ("POST", "/v1/refunds"): create_refund,
    ("POST", "/v1/customers"): create_customer,
    ("POST", "/v1/subscriptions"): create_subscription,
}


def api(method, path, f):
    if (method, path) in ROUTES:
        return ROUTES[(method, path)](f)
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "v1":
        coll = {"payment_intents": "payment_intents", "subscriptions": "subscriptions",
                "customers": "customers", "refunds": "refunds"}.get(parts[2])
        obj = S.get(coll, {}).get(parts[3]) if coll else None
        if obj is None:
            return err(404, "invalid_request_error", f"No such {parts[2][:-1]}: '{parts[3]}'", "resource_missing", "id")
        if method == "GET" and len(parts) == 4:
            return 200, obj, None
        if method == "POST" and len(parts) == 5 and parts[4] == "cancel" and coll == "payment_intents":
            if obj["status"] in ("succeeded", "canceled"):  # as Stripe: canceling twice is an error
                return err(400, "invalid_request_error", "You cannot cancel this PaymentIntent because it has a status of %s." % obj["status"], "payment_intent_unexpected_state")
            obj["status"] = "canceled"
            return 200, obj, None
        if method == "DELETE" and len(parts) == 4 and coll == "subscriptions":
            obj["status"] = "canceled"
            deliver(event("customer.subscription.deleted", obj))
            return 200, obj, None
    return err(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")


def control(path, body):
    j = json.loads(body or b"{}")
    if path == "/__control/webhook":
        S["webhook"] = {"url": j["url"], "secret": j["secret"]}
        return 200, {"ok": True}
    if path == "/__control/fail":
        S["fail"] = {"count": int(j.get("count", 1)), "status": int(j.get("status", 500)),
                     "mode": j.get("mode", "before"), "should_retry": j.get("should_retry")}
        return 200, {"ok": True}
    if path == "/__control/pay":
        pi = S["payment_intents"].get(j.get("payment_intent"))
        if not pi:
            return 404, {"error": "no such payment_intent"}
        if pi["status"] in ("canceled", "succeeded"):  # terminal at Stripe
            return 409, {"error": "payment_intent is %s" % pi["status"]}
        if j.get("outcome", "succeeded") == "succeeded":
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=new_id("ch"))
            ev = event("payment_intent.succeeded", dict(pi))
        else:
            pi.update(status="requires_payment_method",
                      last_payment_error={"code": "card_declined", "message": "Your card was declined."})
            ev = event("payment_intent.payment_failed", dict(pi))
        deliver(ev, int(j.get("deliver", 1)), int(j.get("delay_ms", 0)))
        return 200, ev
    if path == "/__control/event":
        ev = event(j["type"], j.get("object", {}))
        deliver(ev, int(j.get("deliver", 1)), int(j.get("delay_ms", 0)))
        return 200, ev
    if path == "/__control/state":
        return 200, {k: (len(v) if isinstance(v, dict) else v) for k, v in S.items()
                     if k not in ("webhook", "fail", "events")} | {"events": S["events"][-200:]}
    return 404, {"error": "unknown control"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", new_id("req"))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/__control/"):
            with LOCK:
                status, obj = control(path, body)
            return self.send(status, obj)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer sk_"):
            return self.send(401, {"error": {"type": "invalid_request_error",
                                             "message": "Invalid API Key provided"}})
        key = self.headers.get("Idempotency-Key")
        fp = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
        with LOCK:
            S["requests"] += 1
            fail = S["fail"]
            if fail and fail["count"] > 0:
                fail["count"] -= 1
            else:
                fail = None
            if key and fail is None or (key and fail and fail["mode"] == "after"):
                seen = S["idem"].get(key)
                if seen and seen["state"] == "inflight":
                    return self.send(409, {"error": {"type": "idempotency_error",
                                                     "message": "There is currently another in-progress request using this Idempotent Key."}})
                if seen and seen["fp"] != fp:
                    return self.send(400, {"error": {"type": "idempotency_error",
                                                     "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}},
                                     {"Stripe-Should-Retry": "false"})
                if seen:
                    return self.send(seen["status"], seen["obj"], {"Idempotent-Replayed": "true"})
                if method == "POST":  # a concurrent request with this key gets the 409 above
                    S["idem"][key] = {"fp": fp, "state": "inflight"}
        if fail and fail["mode"] == "hang":
            time.sleep(30)
            return
        hdr = {}
        if fail and fail.get("should_retry") is not None:
            hdr["Stripe-Should-Retry"] = "true" if fail["should_retry"] else "false"
        if fail and fail["mode"] == "before":
            return self.send(fail["status"], {"error": {"type": "api_error",
                                                        "message": "An unknown error occurred"}}, hdr)
        f = parse_form(body.decode("utf-8", "replace"))
        with LOCK:
            status, obj, retry = api(method, path, f)
            if key and method == "POST" and status < 500:
                S["idem"][key] = {"fp": fp, "status": status, "obj": obj, "state": "done"}
            elif key and method == "POST" and S["idem"].get(key, {}).get("state") == "inflight":
                del S["idem"][key]  # not saved: the next request with the key runs again
        if fail and fail["mode"] == "after":
            return self.send(fail["status"], {"error": {"type": "api_error",
                                                        "message": "An unknown error occurred"}}, hdr)
        if retry is not None:
            hdr["Stripe-Should-Retry"] = "true" if retry else "false"
        self.send(status, obj, hdr)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


# ---- merchant plan billing (owner: subs; kept in this block) -----------------------
# Subscriptions as Stripe bills them: a first invoice with its payment intent
# (payment_behavior=default_incomplete leaves the subscription "incomplete"
# until the invoice is paid; without it the card on file pays at once),
# expand[] of latest_invoice(.payment_intent) on create and retrieve (GET
# query), updates (cancel_at_period_end), DELETE (cancel at once), invoices,
# DELETE /v1/customers/{id}, and prices "price_*" (anything else: No such
# price). Controls:
#   POST /__control/invoice   {"subscription", "outcome": "paid"|"failed",
#                              "cycle": bool, "created": ts, "deliver": n}
#        settles the latest invoice (cycle=true: a renewal invoice for the next
#        period first), moves the subscription (paid -> active; failed ->
#        past_due, or stays incomplete on the first invoice) and delivers
#        invoice.paid|invoice.payment_failed and customer.subscription.updated.
#   POST /__control/event_at  {"type", "object", "created", "deliver", "delay_ms"}
#        /__control/event with a chosen event.created (out-of-order tests).
#   POST /__control/fail_path {"prefix", "method", "count", "status", "mode", "hang_s"}
#        the next `count` API requests whose path starts with prefix (and
#        method, if given) fail with `status` before doing anything
#        (mode "before", the default), or do the work and then hold the
#        answer for hang_s seconds (mode "hang_after": the caller times out
#        or dies not knowing it happened; a retry with the key is replayed).
PRICE_CENTS = 4900
PERIOD_S = 30 * 86400
S["invoices"] = {}
S["fail_path"] = None
_TLS = threading.local()


def _sub_out(sub, f):
    """A copy of sub with latest_invoice(.payment_intent) expanded as asked."""
    exp = f.get("expand", {})
    exp = set(exp.values()) if isinstance(exp, dict) else {exp}
    out = json.loads(json.dumps(sub))
    if exp & {"latest_invoice", "latest_invoice.payment_intent"}:
        inv = json.loads(json.dumps(S["invoices"][sub["latest_invoice"]]))
        if "latest_invoice.payment_intent" in exp and inv.get("payment_intent"):
            inv["payment_intent"] = dict(S["payment_intents"][inv["payment_intent"]])
        out["latest_invoice"] = inv
    return out


def _new_invoice(sub, reason, start):
    pi = create_pi({"amount": str(PRICE_CENTS), "currency": "eur"})[1]
    inv = {"id": new_id("in"), "object": "invoice", "subscription": sub["id"],
           "customer": sub["customer"], "status": "open", "amount_due": PRICE_CENTS,
           "amount_paid": 0, "currency": "eur", "billing_reason": reason,
           "payment_intent": pi["id"], "created": int(time.time()),
           "lines": {"object": "list", "data": [{"period": {"start": start, "end": start + PERIOD_S}}]}}
    pi["metadata"] = {"invoice": inv["id"]}
    S["invoices"][inv["id"]] = inv
    sub["latest_invoice"] = inv["id"]
    return inv


def subs_create(f):
    if f.get("customer") not in S["customers"]:
        return err(400, "invalid_request_error", "No such customer", "resource_missing", "customer")
    items = f.get("items", {})
    price = items.get("0", {}).get("price") if isinstance(items, dict) else None
    if not price:
        return err(400, "invalid_request_error", "Missing required param: items[0][price]",
                   "parameter_missing", "items")
    if not price.startswith("price_"):
        return err(400, "invalid_request_error", f"No such price: '{price}'", "resource_missing",
                   "items[0][price]")
    now = int(time.time())
    sub = {"id": new_id("sub"), "object": "subscription", "customer": f["customer"],
           "status": "incomplete", "cancel_at_period_end": False, "canceled_at": None,
           "items": {"object": "list", "data": [{"id": new_id("si"), "price": {
               "id": price, "unit_amount": PRICE_CENTS, "currency": "eur",
               "recurring": {"interval": "month"}}, "current_period_start": now,
               "current_period_end": now + PERIOD_S}]},
           "current_period_start": now, "current_period_end": now + PERIOD_S,
           "metadata": f.get("metadata", {}), "created": now, "latest_invoice": None}
    inv = _new_invoice(sub, "subscription_create", now)
    if f.get("payment_behavior") != "default_incomplete":  # the card on file pays at once
        inv.update(status="paid", amount_paid=inv["amount_due"])
        S["payment_intents"][inv["payment_intent"]]["status"] = "succeeded"
        sub["status"] = "active"
    S["subscriptions"][sub["id"]] = sub
    return 200, _sub_out(sub, f), None


def _sub_event(typ, sub, created=None):
    ev = event(typ, json.loads(json.dumps(sub)))
    if created is not None:
        ev["created"] = int(created)
    return ev


def subs_api(method, path, f):
    fp = S["fail_path"]
    if fp and fp["count"] > 0 and path.startswith(fp["prefix"]) and fp.get("method") in (None, method):
        fp["count"] -= 1
        if fp["mode"] == "hang_after":
            _TLS.hang_s = fp["hang_s"]  # Handler.send waits, outside the lock
        else:
            return err(fp["status"], "api_error", "An unknown error occurred")
    if method == "POST" and path == "/v1/subscriptions":
        return subs_create(f)
    parts = path.split("/")
    if len(parts) == 4 and parts[2] == "customers" and method == "DELETE":
        if S["customers"].pop(parts[3], None) is None:
            return err(404, "invalid_request_error", f"No such customer: '{parts[3]}'",
                       "resource_missing", "id")
        return 200, {"id": parts[3], "object": "customer", "deleted": True}, None
    if len(parts) == 4 and parts[2] == "invoices" and method == "GET":
        inv = S["invoices"].get(parts[3])
        return (200, inv, None) if inv else err(404, "invalid_request_error", "No such invoice",
                                                "resource_missing", "id")
    if len(parts) == 4 and parts[2] == "subscriptions" and parts[3] in S["subscriptions"]:
        sub = S["subscriptions"][parts[3]]
        if method == "GET":
            return 200, _sub_out(sub, f), None
        if sub["status"] == "canceled" and method in ("POST", "DELETE"):
            return err(400, "invalid_request_error",
                       "A canceled subscription can only update its cancellation_details and metadata.",
                       "resource_missing" if method == "DELETE" else None)
        if method == "POST":
            if "cancel_at_period_end" in f:
                sub["cancel_at_period_end"] = f["cancel_at_period_end"] == "true"
            deliver(_sub_event("customer.subscription.updated", sub))
            return 200, _sub_out(sub, f), None
        if method == "DELETE":
            now = int(time.time())
            sub.update(status="canceled", canceled_at=now, ended_at=now)
            deliver(_sub_event("customer.subscription.deleted", sub))
            return 200, _sub_out(sub, f), None
    return None


def subs_control(path, j):
    if path == "/__control/fail_path":
        S["fail_path"] = {"prefix": j["prefix"], "method": j.get("method"),
                          "count": int(j.get("count", 1)), "status": int(j.get("status", 500)),
                          "mode": j.get("mode", "before"), "hang_s": float(j.get("hang_s", 30))}
        return 200, {"ok": True}
    if path == "/__control/event_at":
        ev = event(j["type"], j.get("object", {}))
        ev["created"] = int(j["created"])
        deliver(ev, int(j.get("deliver", 1)), int(j.get("delay_ms", 0)))
        return 200, ev
    if path == "/__control/invoice":
        sub = S["subscriptions"].get(j.get("subscription"))
        if not sub:
            return 404, {"error": "no such subscription"}
        if j.get("cycle"):
            _new_invoice(sub, "subscription_cycle", sub["current_period_end"])
        inv = S["invoices"][sub["latest_invoice"]]
        pi = S["payment_intents"][inv["payment_intent"]]
        created = j.get("created")
        if j.get("outcome", "paid") == "paid":
            inv.update(status="paid", amount_paid=inv["amount_due"])
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=new_id("ch"))
            end = inv["lines"]["data"][0]["period"]["end"]
            sub.update(status="active", current_period_end=end)
            sub["items"]["data"][0]["current_period_end"] = end
            typ = "invoice.paid"
        else:
            err_ = {"code": "card_declined", "message": "Your card was declined."}
            pi.update(status="requires_payment_method", last_payment_error=err_)
            if sub["status"] != "incomplete":
                sub["status"] = "past_due"
            typ = "invoice.payment_failed"
        iev = _sub_event(typ, inv, created)
        if typ == "invoice.payment_failed":
            iev["data"]["object"]["payment_intent"] = dict(pi)
        sev = _sub_event("customer.subscription.updated", sub, created)
        n = int(j.get("deliver", 1))
        deliver(iev, n)
        deliver(sev, n)
        return 200, {"events": [iev, sev]}
    return None


_api_base = api
_control_base = control


def api(method, path, f):  # noqa: F811 - the billing block comes first
    if method == "GET" and getattr(_TLS, "query", None):
        f = dict(f, **parse_form(_TLS.query))
    r = subs_api(method, path, f)
    return r if r is not None else _api_base(method, path, f)


def control(path, body):  # noqa: F811
    r = subs_control(path, json.loads(body or b"{}"))
    return r if r is not None else _control_base(path, body)


def _do_get_with_query(self):
    _TLS.query = urllib.parse.urlsplit(self.path).query
    try:
        self.handle_any("GET")
    finally:
        _TLS.query = None


Handler.do_GET = _do_get_with_query
_send_base = Handler.send


def _send_maybe_late(self, status, obj, headers=None):
    hang, _TLS.hang_s = getattr(_TLS, "hang_s", 0), 0
    if hang:
        time.sleep(hang)
    return _send_base(self, status, obj, headers)


Handler.send = _send_maybe_late


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as fh:
            fh.write(str(port))
        import os
        os.replace(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
