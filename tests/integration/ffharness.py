"""ffharness.py - start the real `framefit serve` and talk HTTP to it.

Reusable by every part's integration tests:

    from ffharness import Server
    with Server(framefit, env={"FRAMEFIT_ADMIN_TOKEN": "x" * 32}) as s:
        r = s.request("GET", "/healthz")
        assert r.status == 200 and r.json()["status"] == "ok"

A Server gets a fresh temporary data dir, FRAMEFIT_PORT=0 (the kernel picks a
free loopback port, read back from the "listening" log line), and
FRAMEFIT_DATABASE_URL from `db_url` (default: SQLite in the data dir; pass a
postgres:// URL to run against PostgreSQL). Before serving it runs
`framefit migrate` (and `seed` when seed=True) if those commands succeed.
stop() sends SIGTERM and asserts a clean exit 0; the server log is in
s.log_path (printed on failure).
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names (last wins)
        self.body = body        # bytes

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.headers.get("content-type"), self.body[:300])


class Server:
    def __init__(self, framefit, env=None, db_url=None, seed=False, migrate=True):
        self.framefit = os.path.abspath(framefit)
        self.tmp = tempfile.mkdtemp(prefix="ff-it-")
        self.data_dir = os.path.join(self.tmp, "var")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEFIT_")}
        self.env.update({
            "FRAMEFIT_PORT": "0",
            "FRAMEFIT_DATA_DIR": self.data_dir,
            "FRAMEFIT_LOG_LEVEL": "info",
            "FRAMEFIT_TEST_ROUTES": "1",
        })
        if db_url:
            self.env["FRAMEFIT_DATABASE_URL"] = db_url
        self.env.update(env or {})
        self.seed = seed
        self.migrate = migrate
        self.proc = None
        self.port = None

    # -- lifecycle ----------------------------------------------------------
    def run_cmd(self, *args, check=True):
        """Runs `framefit ARGS` with the server's environment."""
        p = subprocess.run([self.framefit, *args], env=self.env, capture_output=True, text=True,
                           timeout=600)
        if check and p.returncode != 0:
            raise AssertionError("framefit %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                  p.stderr[-2000:]))
        return p

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        if self.migrate:
            self.run_cmd("migrate", check=False)
        if self.seed:
            self.run_cmd("seed")
        self.log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen([self.framefit, "serve"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        pat = re.compile(rb'listening on http://\[?[0-9a-f.:]+\]?:(\d+)/')
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("framefit serve exited %d:\n%s" % (self.proc.returncode,
                                                                       self.read_log()))
            m = pat.search(self.read_log().encode())
            if m:
                self.port = int(m.group(1))
                return self
            time.sleep(0.05)
        raise AssertionError("framefit serve did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        """The JSON log lines written so far, parsed."""
        out = []
        for line in self.read_log().splitlines():
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the server and returns its exit code (asserts 0)."""
        if not self.proc:
            return 0
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("framefit serve did not stop:\n" + self.read_log())
        self.proc = None
        if rc != 0:
            raise AssertionError("framefit serve exited %d:\n%s" % (rc, self.read_log()))
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        try:
            if self.proc:
                self.stop()
        finally:
            if et is not None:
                sys.stderr.write("---- server log ----\n" + self.read_log()[-8000:] + "\n")
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    # -- HTTP -------------------------------------------------------------------
    def connect(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """One request; body may be bytes, str or a JSON-able object (sent as
        application/json unless a Content-Type is given)."""
        headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        own = conn is None
        c = conn or self.connect()
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, data)
        finally:
            if own:
                c.close()

    def raw(self, data, timeout=10):
        """Sends raw bytes on a new connection; returns everything read until
        the server closes (or the timeout)."""
        return self.raw_ex(data, timeout)[0]

    def raw_ex(self, data, timeout=10):
        """Like raw(); returns (bytes, closed) where closed tells whether the
        server closed the connection (False: the read timed out)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        closed = False
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not b:
                    closed = True
                    break
                chunks.append(b)
            return b"".join(chunks), closed
        finally:
            s.close()


def raw_status(resp_bytes):
    """The status code of the first response in raw bytes (None if none)."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp_bytes)
    return int(m.group(1)) if m else None


def check_problem(r, status, type_slug=None):
    """Asserts r is an RFC 9457 problem with this status (and type slug)."""
    assert r.status == status, "want %d, got %r" % (status, r)
    assert r.header("content-type") == "application/problem+json", r
    p = r.json()
    assert p["status"] == status, p
    assert p["type"].startswith("https://framefit.dev/problems/"), p
    assert p.get("title"), p
    assert p.get("instance") == r.header("x-request-id"), (p, r.headers)
    if type_slug:
        assert p["type"].endswith("/" + type_slug), p
    return p


# -- data-driven cases ----------------------------------------------------------
#
# A case file (tests/integration/cases/*.json) is a list of objects:
#   {"name": "...", "method": "GET", "path": "/healthz",
#    "headers": {...}, "json": {...} | "body": "raw text",
#    "expect": {"status": 200, "headers": {"name": "value" | null},
#               "json": {subset}, "problem": "slug", "errors": ["field", ...]},
#    "save": {"var": "json.path"}}
# "json" in expect is a subset match (objects by key, lists element-wise when
# the expected list is shorter or equal). "${var}" in path/headers/bodies is
# replaced by values saved by earlier cases of the same file.

def _subset(want, got, where="$"):
    if isinstance(want, dict):
        assert isinstance(got, dict), "%s: want object, got %r" % (where, got)
        for k, v in want.items():
            assert k in got, "%s: missing key %r in %r" % (where, k, got)
            _subset(v, got[k], where + "." + k)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) >= len(want), "%s: %r vs %r" % (where, want, got)
        for i, v in enumerate(want):
            _subset(v, got[i], "%s[%d]" % (where, i))
    else:
        assert want == got, "%s: want %r, got %r" % (where, want, got)


def _subst(obj, vars_):
    if isinstance(obj, str):
        for k, v in vars_.items():
            obj = obj.replace("${%s}" % k, str(v))
        return obj
    if isinstance(obj, list):
        return [_subst(x, vars_) for x in obj]
    if isinstance(obj, dict):
        return {k: _subst(v, vars_) for k, v in obj.items()}
    return obj


def _dig(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def run_case_file(server, path):
    """Runs one case file; returns the number of cases run. Raises on failure."""
    with open(path) as f:
        cases = json.load(f)
    vars_ = {"admin_token": server.env.get("FRAMEFIT_ADMIN_TOKEN", "")}
    for case in cases:
        case = _subst(case, vars_)
        name = "%s: %s" % (os.path.basename(path), case.get("name", case["path"]))
        body = case.get("json", case.get("body"))
        r = server.request(case.get("method", "GET"), case["path"], body=body,
                           headers=case.get("headers"))
        exp = case.get("expect", {})
        try:
            if "status" in exp:
                assert r.status == exp["status"], "want %d, got %r" % (exp["status"], r)
            for h, v in exp.get("headers", {}).items():
                assert r.header(h) == v, "header %s: want %r, got %r" % (h, v, r.header(h))
            if "problem" in exp:
                p = check_problem(r, exp.get("status", r.status), exp["problem"])
                if "errors" in exp:
                    fields = [e["field"] for e in p.get("errors", [])]
                    for fld in exp["errors"]:
                        assert fld in fields, "errors lack %r: %r" % (fld, p)
            if "json" in exp:
                _subset(exp["json"], r.json())
            for var, jp in case.get("save", {}).items():
                vars_[var] = _dig(r.json(), jp)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (name, e))
    return len(cases)


def fresh_db(pg, name):
    """A fresh, empty database URL for one test run: on PostgreSQL a new
    database NAME in the cluster the CTest fixture started (its URL is in the
    file $FF_TEST_PG_URL_FILE; without it the test skips with exit code 77),
    else a new SQLite file in a temporary directory."""
    if not pg:
        return "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="ff-%s-" % name), "framefit.db")
    f = os.environ.get("FF_TEST_PG_URL_FILE", "")
    if not f or not os.path.exists(f):
        print("SKIP: no PostgreSQL test cluster")
        sys.exit(77)
    url = open(f).read().strip()
    base, _ = url.rsplit("/", 1)
    subprocess.run(["psql", url, "-qc", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                   check=True, capture_output=True)
    subprocess.run(["psql", url, "-qc", "CREATE DATABASE %s" % name], check=True,
                   capture_output=True)
    return base + "/" + name
