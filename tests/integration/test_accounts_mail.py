#!/usr/bin/env python3
"""test_accounts_mail.py --framefit BIN - the emails accounts sends, delivered
through the outbox ("email.send" jobs) to the SMTP stand-in (tests/smtp) and
read back: verification, sign-up with a taken address, new sign-in, password
reset and the password-changed notice. The links in them work, once."""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "smtp"))
from ffharness import Server, check_problem  # noqa: E402
from smtpstub import SmtpStub  # noqa: E402

PW = "correct horse battery"


def token(m):
    link = re.search(r"https?://\S+\?token=([A-Za-z0-9_-]+)", m.text)
    assert link, m.text
    return link.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    a = ap.parse_args()
    with SmtpStub() as smtp, Server(a.framefit, env={
            "FRAMEFIT_SMTP_URL": smtp.url, "FRAMEFIT_WORKERS": "1",
            "FRAMEFIT_RATELIMIT_AUTH_IP": "100000/100000",
            "FRAMEFIT_PUBLIC_URL": "https://shop.example.test"}) as s:
        def post(path, body, ua=None):
            h = {"User-Agent": ua} if ua else {}
            return s.request("POST", path, body=body, headers=h)

        def inbox(to, subject, count=1):
            return smtp.wait_for(lambda m: m.to == to and m.subject == subject, count=count)

        # a refused registration sends nothing; a good one sends the verification
        assert post("/api/v1/auth/register", {"email": "ada@example.test", "password": "password"}).status == 422
        assert post("/api/v1/auth/register", {"email": "Ada@Example.test", "password": PW,
                                              "display_name": "Ada"}).status == 202
        m = inbox("ada@example.test", "Confirm your email address")
        m = m[-1] if isinstance(m, list) else m
        assert "Hi Ada," in m.text and "https://shop.example.test/verify-email?token=" in m.text, m.text
        assert m.header("List-Unsubscribe") is None  # essential mail
        t = token(m)
        assert post("/api/v1/auth/verify-email", {"token": t}).status == 200
        check_problem(post("/api/v1/auth/verify-email", {"token": t}), 422)
        # the same address again: the owner is told, nothing is created
        assert post("/api/v1/auth/register", {"email": "ada@example.test", "password": PW}).status == 202
        inbox("ada@example.test", "Sign-up attempt with your email address")
        # a new device
        assert post("/api/v1/auth/login", {"email": "ada@example.test", "password": PW}, "Laptop/1").status == 200
        assert post("/api/v1/auth/login", {"email": "ada@example.test", "password": PW}, "Phone/2").status == 200
        m = inbox("ada@example.test", "New sign-in to your framefit account")
        m = m[-1] if isinstance(m, list) else m
        assert "Phone/2" in m.text and "127.0.0.1" in m.text, m.text
        # forgotten password: the link resets once; the owner hears about the change
        assert post("/api/v1/auth/forgot-password", {"email": "ada@example.test"}).status == 202
        m = inbox("ada@example.test", "Reset your framefit password")
        m = m[-1] if isinstance(m, list) else m
        t = token(m)
        assert post("/api/v1/auth/reset-password", {"token": t, "new_password": "brand new phrase"}).status == 204
        check_problem(post("/api/v1/auth/reset-password", {"token": t, "new_password": "another new phrase"}), 422)
        inbox("ada@example.test", "Your framefit password was changed")
        # nothing was ever sent to an unknown address
        assert post("/api/v1/auth/forgot-password", {"email": "nobody@example.test"}).status == 202
        assert post("/api/v1/auth/login", {"email": "ada@example.test", "password": "brand new phrase"}).status == 200
        assert not [x for x in smtp.messages() if x.to == "nobody@example.test"]
    print("accounts mail: all passed")


if __name__ == "__main__":
    main()
