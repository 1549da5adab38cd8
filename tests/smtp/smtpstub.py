"""smtpstub.py - start the test SMTP server (smtp_server.py) and read what it
received. For any test (accounts, orders, ...):

    sys.path.insert(0, "<repo>/tests/smtp")
    from smtpstub import SmtpStub
    with SmtpStub() as smtp:                       # skips (77) without aiosmtpd
        env = {"FRAMEFIT_SMTP_URL": smtp.url}      # smtp://127.0.0.1:PORT
        ... start framefit with env, make it send mail ...
        m = smtp.wait_for(lambda m: m.to == "ada@example.test")
        m.subject, m.text, m.html, m.header("List-Unsubscribe"), m.raw
        smtp.refuse("bob@example.test", 450, times=2)   # 4xx twice, then accept
        smtp.refuse("eve@example.test", 550)            # always 5xx
"""
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _python():
    """An interpreter that has aiosmtpd (Debian's python3-aiosmtpd lives in
    /usr/bin/python3's path; the PATH python may be another one)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import aiosmtpd"], capture_output=True).returncode == 0:
            return py
    return None


class Message:
    def __init__(self, meta, raw):
        self.mail_from = meta["mail_from"]
        self.rcpt_tos = meta["rcpt_tos"]
        self.raw = raw  # bytes as received (CRLF line ends)
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = self.rcpt_tos[0].lower() if self.rcpt_tos else None

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    @property
    def subject(self):
        return self.header("Subject")

    def _part(self, ctype):
        p = self.msg.get_body(preferencelist=(ctype,))
        return p.get_content().replace("\r\n", "\n") if p is not None else None

    @property
    def text(self):
        return self._part("plain")

    @property
    def html(self):
        return self._part("html")


class SmtpStub:
    def __init__(self, directory=None):
        self.tmp = None if directory else tempfile.mkdtemp(prefix="ff-smtp-")
        self.dir = directory or self.tmp
        self.proc = None
        self.port = None

    @staticmethod
    def available():
        return _python() is not None

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self):
        py = _python()
        if not py:
            print("SKIP: python3-aiosmtpd is not installed (scripts/install-deps.sh --test)")
            sys.exit(77)
        self.proc = subprocess.Popen([py, os.path.join(HERE, "smtp_server.py"), "--dir", self.dir],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise AssertionError("the SMTP stand-in did not start: %r" % line)
        self.port = int(line.split()[1])
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    # -- behaviour --------------------------------------------------------------
    def refuse(self, rcpt, code, times=None, text=None, stage="rcpt"):
        """Answers `code` (4xx/5xx) for rcpt at RCPT TO (or end of DATA)."""
        path = os.path.join(self.dir, "rules.json")
        try:
            with open(path) as f:
                rules = json.load(f)
        except (OSError, ValueError):
            rules = {}
        r = {"code": code, "stage": stage}
        if times is not None:
            r["times"] = times
        if text:
            r["text"] = text
        rules[rcpt.lower()] = r
        with open(path + ".tmp", "w") as f:
            json.dump(rules, f)
        os.replace(path + ".tmp", path)

    def refused(self, rcpt, stage="rcpt"):
        """How many times rcpt was refused so far."""
        try:
            with open(os.path.join(self.dir, "refused.json")) as f:
                return json.load(f).get(rcpt.lower() + "/" + stage, 0)
        except (OSError, ValueError):
            return 0

    # -- reading ------------------------------------------------------------------
    def messages(self):
        """Every message received so far, oldest first."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".json") and name[:6].isdigit():
                with open(os.path.join(self.dir, name)) as f:
                    meta = json.load(f)
                with open(os.path.join(self.dir, meta["eml"]), "rb") as f:
                    out.append(Message(meta, f.read()))
        return out

    def wait_for(self, pred=lambda m: True, timeout=60, count=1):
        """Waits until `count` messages match pred; returns the last match
        (or the list when count > 1)."""
        deadline = time.time() + timeout
        while True:
            got = [m for m in self.messages() if pred(m)]
            if len(got) >= count:
                return got[-1] if count == 1 else got
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %d message(s); have %d: %r" %
                                     (count, len(got), [m.to for m in self.messages()]))
            time.sleep(0.05)
