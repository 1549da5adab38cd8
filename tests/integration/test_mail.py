#!/usr/bin/env python3
"""test_mail.py --framefit BIN [--pg]

Email end to end through a real SMTP server (tests/smtp): framefit sends to
the aiosmtpd stand-in on loopback, the test reads the delivered message back
(headers, both parts, escaping, List-Unsubscribe), POSTs the one-click link
and checks the suppression; 4xx replies retry then deliver, 5xx replies fail
with the reply recorded; the SendGrid and SES/SNS webhooks verify signatures
(keys and a self-signed certificate made here with the openssl CLI; the SNS
certificate is pre-seeded into DATA_DIR/sns-certs under an amazonaws URL, as
tests cannot reach the internet) and feed the suppression list."""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "smtp"))
from ffharness import Server, check_problem  # noqa: E402
from smtpstub import SmtpStub  # noqa: E402

TOKEN = "it-admin-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def openssl(*args, data=None):
    p = subprocess.run(["openssl", *args], input=data, capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


class Keys:
    """An EC P-256 key (SendGrid) and an RSA key with a self-signed cert (SNS)."""

    def __init__(self, d):
        self.d = d
        self.ec = os.path.join(d, "ec.pem")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.ec)
        der = openssl("ec", "-in", self.ec, "-pubout", "-outform", "DER")
        self.sg_public = base64.b64encode(der).decode()
        self.rsa = os.path.join(d, "rsa.pem")
        self.cert = os.path.join(d, "cert.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.rsa, "-out",
                self.cert, "-days", "1", "-subj", "/CN=sns.us-east-1.amazonaws.com")

    def sign(self, key, digest, data):
        return base64.b64encode(openssl("dgst", "-" + digest, "-sign", key, data=data)).decode()


def post_test_mail(s, **body):
    r = s.request("POST", "/__test/mail", body)
    assert r.status == 201, r
    return r.json()


def messages(s, **q):
    r = s.request("GET", "/api/v1/email/messages?" + urllib.parse.urlencode(q), headers=AUTH)
    assert r.status == 200, r
    return r.json()


def message(s, mid):
    for m in messages(s, limit=500)["items"]:
        if m["id"] == mid:
            return m
    raise AssertionError("no message %d" % mid)


def suppression(s, email):
    r = s.request("GET", "/api/v1/email/suppressions?email=" + urllib.parse.quote(email),
                  headers=AUTH)
    assert r.status == 200, r
    items = r.json()["items"]
    return items[0] if items else None


def check_delivery_and_unsubscribe(s, smtp):
    hostile = "Ada <script>&\"'\r\nBcc: victim@evil.test"
    res = post_test_mail(s, to="Ada@Example.test", template="test", locale="en",
                         vars={"name": hostile, "message": "Grüße & <b>bold</b>",
                               "link": "https://shop.test/a?x=1&y=2"}, deliver=True)
    assert res["outcome"] == "done", res
    m = smtp.wait_for(lambda m: m.to == "ada@example.test")
    # headers
    assert m.mail_from == "no-reply@localhost", m.mail_from
    assert m.header("To") == "<ada@example.test>" or "ada@example.test" in m.header("To")
    assert m.subject == "Test message for Ada <script>&\"'  Bcc: victim@evil.test", m.subject
    assert m.header("Bcc") is None and m.rcpt_tos == ["ada@example.test"], m.rcpt_tos
    head = m.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc" not in head and not head.startswith(b"Bcc"), head  # no header line of its own
    for h in ("Date", "Message-ID", "MIME-Version", "From"):
        assert m.header(h), h
    assert m.header("MIME-Version") == "1.0"
    assert m.msg.get_content_type() == "multipart/alternative"
    # both parts, variables escaped for their part
    assert "Hello Ada <script>&\"'\nBcc: victim@evil.test," in m.text, m.text
    assert "Grüße & <b>bold</b>" in m.text
    assert "Hello Ada &lt;script&gt;&amp;&quot;&#39;" in m.html, m.html
    assert "<script>" not in m.html and "<b>bold" not in m.html
    assert 'href="https://shop.test/a?x=1&amp;y=2"' in m.html, m.html
    # RFC 8058 headers on non-essential mail
    lu = m.header("List-Unsubscribe")
    assert m.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    url = re.match(r"<(http://127\.0\.0\.1:\d+/api/v1/email/unsubscribe\?t=[A-Za-z0-9_.-]+)>", lu)
    assert url, lu
    path = url.group(1).split(str(s.port), 1)[1]
    # a GET (mail scanners) shows a page and changes nothing
    r = s.request("GET", path)
    assert r.status == 200 and b"<form method=\"post\"" in r.body, r
    assert suppression(s, "ada@example.test") is None
    # forged and malformed tokens change nothing
    t = path.split("t=", 1)[1]
    forged = t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB")
    check_problem(s.request("POST", path.replace(t, forged), "List-Unsubscribe=One-Click",
                            {"Content-Type": "application/x-www-form-urlencoded"}), 403)
    check_problem(s.request("POST", "/api/v1/email/unsubscribe?t=junk", "List-Unsubscribe=One-Click",
                            {"Content-Type": "application/x-www-form-urlencoded"}), 400)
    check_problem(s.request("POST", "/api/v1/email/unsubscribe", "List-Unsubscribe=One-Click",
                            {"Content-Type": "application/x-www-form-urlencoded"}), 422)
    check_problem(s.request("POST", path, "", {"Content-Type": "application/x-www-form-urlencoded"}),
                  400)
    assert suppression(s, "ada@example.test") is None
    # the one-click POST, twice (idempotent)
    for _ in range(2):
        r = s.request("POST", path, "List-Unsubscribe=One-Click",
                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, r
    sup = suppression(s, "ada@example.test")
    assert sup and sup["reason"] == "unsubscribe" and sup["source"] == "one-click", sup
    # non-essential mail is now suppressed, essential mail still goes out
    n_before = len(smtp.messages())
    res = post_test_mail(s, to="ada@example.test", template="test",
                         vars={"name": "A", "message": "m"}, deliver=True)
    assert message(s, res["id"])["status"] == "suppressed", (res, message(s, res["id"]))
    res = post_test_mail(s, to="ada@example.test", template="account-verify", essential=True,
                         vars={"name": "A", "link": "https://shop.test/v?t=1", "expires_hours": 24},
                         deliver=True)
    assert res["outcome"] == "done", res
    m = smtp.wait_for(lambda m: m.subject == "Confirm your email address")
    assert len(smtp.messages()) == n_before + 1
    assert m.header("List-Unsubscribe") is None and m.header("List-Unsubscribe-Post") is None
    assert "https://shop.test/v?t=1" in m.text
    # staff can lift the suppression
    r = s.request("DELETE", "/api/v1/email/suppressions/ada%40example.test", headers=AUTH)
    assert r.status == 204, r
    check_problem(s.request("DELETE", "/api/v1/email/suppressions/ada%40example.test",
                            headers=AUTH), 404)
    check_problem(s.request("GET", "/api/v1/email/suppressions"), 401)


def check_smtp_replies(s, smtp):
    # 4xx: retried, then delivered
    smtp.refuse("busy@example.test", 451, times=2, text="try later")
    res = post_test_mail(s, to="busy@example.test", template="test",
                         vars={"name": "B", "message": "m"}, deliver=True)
    assert res["outcome"] == "retry", res
    m = message(s, res["id"])
    assert m["status"] == "queued" and m["attempts"] == 1 and m["last_code"] == 451, m
    r = s.request("POST", "/__test/mail/deliver", {"id": res["id"]})
    assert r.json()["outcome"] == "retry", r
    r = s.request("POST", "/__test/mail/deliver", {"id": res["id"]})
    assert r.json()["outcome"] == "done", r
    m = message(s, res["id"])
    assert m["status"] == "sent" and m["attempts"] == 3 and m["sent_at"], m
    assert re.fullmatch(r"\d{6}", m["provider_id"] or ""), m  # the stand-in's "queued as NNNNNN"
    assert smtp.refused("busy@example.test") == 2
    smtp.wait_for(lambda m: m.to == "busy@example.test")
    # delivering again sends nothing (idempotent)
    n = len(smtp.messages())
    r = s.request("POST", "/__test/mail/deliver", {"id": res["id"]})
    assert r.json()["outcome"] == "done" and len(smtp.messages()) == n
    # 5xx: permanent failure with the reply recorded, at RCPT and at DATA
    smtp.refuse("gone@example.test", 550, text="no such user")
    smtp.refuse("spam@example.test", 554, text="rejected as spam", stage="data")
    for to, code in (("gone@example.test", 550), ("spam@example.test", 554)):
        res = post_test_mail(s, to=to, template="test", vars={"name": "G", "message": "m"},
                             deliver=True)
        assert res["outcome"] == "failed", res
        m = message(s, res["id"])
        assert m["status"] == "failed" and m["last_code"] == code, m
        assert str(code) in m["last_reply"], m
    assert messages(s, status="failed", to="gone@example.test")["total"] == 1
    # a bad variable set fails permanently with a clear reason
    res = post_test_mail(s, to="x@example.test", template="test", vars={"message": "m"},
                         deliver=True)
    assert res["outcome"] == "failed" and "name" in res["error"], res


def sg_post(s, keys, body, ts=None, sig=None):
    ts = ts or str(int(time.time()))
    sig = sig or keys.sign(keys.ec, "sha256", ts.encode() + body)
    return s.request("POST", "/api/v1/email/webhooks/sendgrid", body,
                     {"Content-Type": "application/json",
                      "X-Twilio-Email-Event-Webhook-Signature": sig,
                      "X-Twilio-Email-Event-Webhook-Timestamp": ts})


def check_sendgrid(s, keys):
    body = json.dumps([
        {"email": "Hard@Example.test", "event": "bounce", "type": "bounce", "sg_event_id": "sg-1",
         "timestamp": 1},
        {"email": "soft@example.test", "event": "bounce", "type": "blocked", "sg_event_id": "sg-2"},
        {"email": "spam@example.test", "event": "spamreport", "sg_event_id": "sg-3"},
        {"email": "delivered@example.test", "event": "delivered", "sg_event_id": "sg-4"},
    ]).encode()
    r = sg_post(s, keys, body)
    assert r.status == 200 and r.json() == {"received": 2, "applied": 2, "ignored": 2}, r
    assert suppression(s, "hard@example.test")["reason"] == "bounce"
    assert suppression(s, "spam@example.test")["reason"] == "complaint"
    assert suppression(s, "soft@example.test") is None
    r = sg_post(s, keys, body)  # the same events again: deduplicated by sg_event_id
    assert r.status == 200 and r.json()["applied"] == 0, r
    evil = json.dumps([{"email": "victim@example.test", "event": "bounce",
                        "sg_event_id": "sg-9"}]).encode()
    check_problem(sg_post(s, keys, evil, sig=keys.sign(keys.ec, "sha256", b"1" + body)), 403)
    old = str(int(time.time()) - 3600)
    check_problem(sg_post(s, keys, evil, ts=old), 403)
    check_problem(s.request("POST", "/api/v1/email/webhooks/sendgrid", evil,
                            {"Content-Type": "application/json"}), 401)
    check_problem(sg_post(s, keys, b"[{\"email\":"), 400)
    check_problem(sg_post(s, keys, b"{}"), 400)
    assert suppression(s, "victim@example.test") is None


def sns_doc(keys, typ, message, version="1", cert_url=CERT_URL, topic=TOPIC, mid="sns-1"):
    d = {"Type": typ, "MessageId": mid, "TopicArn": topic, "Message": message,
         "Timestamp": "2026-11-25T00:00:00.000Z", "SignatureVersion": version,
         "SigningCertURL": cert_url}
    if typ == "Notification":
        d["Subject"] = "Amazon SES Email Event Notification"
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        d["SubscribeURL"] = ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
                             "&TopicArn=" + topic + "&Token=tok")
        d["Token"] = "tok"
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    sts = "".join("%s\n%s\n" % (f, d[f]) for f in fields).encode()
    d["Signature"] = keys.sign(keys.rsa, "sha1" if version == "1" else "sha256", sts)
    return d


def check_ses(s, keys):
    # pre-seed the certificate cache: DATA_DIR/sns-certs/<sha256(url)>.pem
    cache = os.path.join(s.data_dir, "sns-certs")
    os.makedirs(cache, exist_ok=True)
    shutil.copy(keys.cert, os.path.join(cache, hashlib.sha256(CERT_URL.encode()).hexdigest() + ".pem"))
    bounce = json.dumps({"notificationType": "Bounce", "bounce": {
        "bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "SES-Hard@example.test"}]}})
    for version in ("1", "2"):
        r = s.request("POST", "/api/v1/email/webhooks/ses",
                      sns_doc(keys, "Notification", bounce, version, mid="sns-v" + version))
        assert r.status == 200, r
    assert suppression(s, "ses-hard@example.test")["reason"] == "bounce"
    complaint = json.dumps({"notificationType": "Complaint", "complaint": {
        "complainedRecipients": [{"emailAddress": "ses-complaint@example.test"}]}})
    r = s.request("POST", "/api/v1/email/webhooks/ses", sns_doc(keys, "Notification", complaint,
                                                                "2", mid="sns-c"))
    assert r.status == 200 and r.json()["applied"] == 1, r
    transient = json.dumps({"notificationType": "Bounce", "bounce": {
        "bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "soft2@example.test"}]}})
    r = s.request("POST", "/api/v1/email/webhooks/ses", sns_doc(keys, "Notification", transient,
                                                                mid="sns-t"))
    assert r.status == 200 and r.json()["applied"] == 0, r
    # tampered message, foreign cert host, foreign topic, malformed
    d = sns_doc(keys, "Notification", bounce.replace("SES-Hard", "victim"), mid="sns-x")
    d["Message"] = d["Message"].replace("victim", "victim2")
    check_problem(s.request("POST", "/api/v1/email/webhooks/ses", d), 403)
    for url in ("https://sns.us-east-1.amazonaws.com.evil.test/x.pem",
                "http://sns.us-east-1.amazonaws.com/x.pem",
                "https://evil.test/sns.us-east-1.amazonaws.com/x.pem"):
        check_problem(s.request("POST", "/api/v1/email/webhooks/ses",
                                sns_doc(keys, "Notification", bounce, cert_url=url)), 403)
    check_problem(s.request("POST", "/api/v1/email/webhooks/ses",
                            sns_doc(keys, "Notification", bounce, topic="arn:aws:sns:x:1:other")),
                  403)
    check_problem(s.request("POST", "/api/v1/email/webhooks/ses", "{\"Type\":"), 400)
    check_problem(s.request("POST", "/api/v1/email/webhooks/ses", {"Type": "Notification"}), 400)
    assert suppression(s, "victim@example.test") is None
    assert suppression(s, "victim2@example.test") is None
    # a subscription confirmation is accepted for a background confirm
    r = s.request("POST", "/api/v1/email/webhooks/ses",
                  sns_doc(keys, "SubscriptionConfirmation", "You have chosen to subscribe"))
    assert r.status == 202, r


def wait_status(s, mid, status, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = s.request("GET", "/api/v1/email/messages?limit=500", headers=AUTH)
        if r.status == 200:
            for m in r.json()["items"]:
                if m["id"] == mid and m["status"] == status:
                    return m
        time.sleep(0.05)
    raise AssertionError("message %d never reached %s: %r" % (mid, status, message(s, mid)))


def check_jobs(s, smtp):
    ok = post_test_mail(s, to="job@example.test", template="password-reset", essential=True,
                        vars={"name": "J", "link": "https://shop.test/r?t=9", "expires_minutes": 30,
                              "ip": "192.0.2.7", "time": "25 Nov 2026 01:00 UTC"})
    m = smtp.wait_for(lambda m: m.to == "job@example.test")
    assert m.subject == "Reset your framefit password" and "192.0.2.7" in m.text, m.subject
    wait_status(s, ok["id"], "sent")
    # 4xx twice, then accepted: retried by the queue with backoff
    smtp.refuse("retry@example.test", 421, times=2, text="busy")
    r = post_test_mail(s, to="retry@example.test", template="test", vars={"name": "R", "message": "m"})
    smtp.wait_for(lambda m: m.to == "retry@example.test")
    m = wait_status(s, r["id"], "sent")
    assert m["attempts"] == 3 and smtp.refused("retry@example.test") == 2, m
    # 5xx: failed at once with the reply
    smtp.refuse("never@example.test", 550, text="no such user")
    r = post_test_mail(s, to="never@example.test", template="test", vars={"name": "N", "message": "m"})
    m = wait_status(s, r["id"], "failed")
    assert m["attempts"] == 1 and m["last_code"] == 550 and "no such user" in m["last_reply"], m
    # 4xx forever: failed after the job's last attempt (FRAMEFIT_JOBS_MAX_ATTEMPTS=4)
    smtp.refuse("always@example.test", 452, text="full")
    r = post_test_mail(s, to="always@example.test", template="test", vars={"name": "A", "message": "m"})
    m = wait_status(s, r["id"], "failed")
    assert m["attempts"] == 4 and m["last_code"] == 452, m


def run(framefit, db_url, tmp):
    keys = Keys(tmp)
    with SmtpStub() as smtp:
        env = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_SMTP_URL": smtp.url,
               "FRAMEFIT_WORKERS": "0",  # this part delivers through /__test/mail/deliver
               "FRAMEFIT_SMTP_TIMEOUT": "20", "FRAMEFIT_SENDGRID_WEBHOOK_KEY": keys.sg_public,
               "FRAMEFIT_SES_TOPIC_ARNS": "arn:aws:sns:us-east-1:1:other-topic, " + TOPIC}
        with Server(framefit, env=env, db_url=db_url) as s:
            check_delivery_and_unsubscribe(s, smtp)
            check_smtp_replies(s, smtp)
            check_sendgrid(s, keys)
            check_ses(s, keys)
        # through the job queue: "email.send" jobs run by serve's workers
        env.update({"FRAMEFIT_WORKERS": "2", "FRAMEFIT_JOBS_BACKOFF_MS": "50",
                    "FRAMEFIT_JOBS_BACKOFF_MAX_MS": "200", "FRAMEFIT_JOBS_POLL_MS": "20",
                    "FRAMEFIT_JOBS_MAX_ATTEMPTS": "4"})
        with Server(framefit, env=env, db_url=db_url) as s:
            check_jobs(s, smtp)
    # without an SMTP URL mail goes to DATA_DIR/mail/*.eml (make run)
    with Server(framefit, env={"FRAMEFIT_ADMIN_TOKEN": TOKEN},
                db_url=db_url if db_url.startswith("postgres") else None) as s:
        res = post_test_mail(s, to="file@example.test", template="test",
                             vars={"name": "F", "message": "m"})
        wait_status(s, res["id"], "sent")
        path = os.path.join(s.data_dir, "mail", "%d.eml" % res["id"])
        assert os.path.exists(path), os.listdir(os.path.join(s.data_dir, "mail"))
        # webhooks refuse when not configured
        check_problem(s.request("POST", "/api/v1/email/webhooks/sendgrid", b"[]"), 503)
        check_problem(s.request("POST", "/api/v1/email/webhooks/ses", b"{}"), 503)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    if not shutil.which("openssl"):
        print("SKIP: the openssl command is missing")
        return 77
    if not SmtpStub.available():
        print("SKIP: python3-aiosmtpd is not installed (scripts/install-deps.sh --test)")
        return 77
    tmp = tempfile.mkdtemp(prefix="ff-mail-it-")
    pg_state = None
    try:
        if a.pg:
            pg_state = os.path.join(tmp, "pg")
            os.makedirs(pg_state)
            subprocess.run(["bash", os.path.join(REPO, "tests", "pg", "pg-start.sh"), pg_state],
                           check=True, stdout=subprocess.DEVNULL)
            url_file = os.path.join(pg_state, "url")
            if not os.path.exists(url_file):
                print("SKIP: PostgreSQL 15 is not available")
                return 77
            db_url = open(url_file).read().strip()
        else:
            db_url = "sqlite://" + os.path.join(tmp, "mail.db")
        run(a.framefit, db_url, tmp)
        print("ok   email end to end on %s" % ("postgres" if a.pg else "sqlite"))
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
