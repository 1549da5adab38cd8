#!/usr/bin/env python3
"""test_jobs.py --framefit BIN [--pg]

The job queue through the real binary, on SQLite or a throwaway PostgreSQL 15:
serve's job workers (FRAMEFIT_WORKERS), the staff endpoints (list, filter,
page, get with attempts, retry, discard; auth and bad input), the /metrics
gauges, graceful shutdown (a running job finishes, or is released at the
deadline), and `framefit worker` as its own process limited to a queue. The
test job types exist only with FRAMEFIT_TEST_ROUTES=1 (the harness sets it)."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server, check_problem  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TOKEN = "it-admin-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
FAST = {"FRAMEFIT_ADMIN_TOKEN": TOKEN, "FRAMEFIT_JOBS_POLL_MS": "20",
        "FRAMEFIT_JOBS_BACKOFF_MS": "10", "FRAMEFIT_JOBS_BACKOFF_MAX_MS": "50"}


def wait_for(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def enqueue(s, **spec):
    r = s.request("POST", "/__test/jobs", spec)
    assert r.status == 200, r
    return r.json()["ids"]


def job(s, jid):
    r = s.request("GET", "/api/v1/jobs/%d" % jid, headers=AUTH)
    assert r.status == 200, r
    return r.json()


def listing(s, query):
    r = s.request("GET", "/api/v1/jobs?" + query, headers=AUTH)
    assert r.status == 200, r
    return r.json()


def staff_endpoints(s):
    first, last = enqueue(s, type="test.noop", count=30, queue="bulk")
    wait_for("30 done", lambda: len(listing(s, "state=done&queue=bulk&limit=200")["items"]) == 30)
    # ids need not be consecutive (other jobs may be enqueued at the same time)
    all_ids = [j["id"] for j in listing(s, "queue=bulk&limit=200")["items"]]
    assert len(all_ids) == 30 and all_ids == sorted(all_ids, reverse=True), all_ids
    assert all_ids[0] == last and all_ids[-1] == first, (all_ids, first, last)
    page1 = listing(s, "queue=bulk&limit=12")
    assert [j["id"] for j in page1["items"]] == all_ids[:12], page1
    assert page1["next_before_id"] == all_ids[11]
    page2 = listing(s, "queue=bulk&limit=12&before_id=%d" % page1["next_before_id"])
    assert [j["id"] for j in page2["items"]] == all_ids[12:24], page2
    page3 = listing(s, "queue=bulk&limit=12&before_id=%d" % page2["next_before_id"])
    assert [j["id"] for j in page3["items"]] == all_ids[24:], page3
    assert page3["next_before_id"] is None, page3
    j = page1["items"][0]
    assert j["state"] == "done" and j["attempts"] == 1 and j["type"] == "test.noop", j
    assert j["payload"] == {} and j["created_at"].endswith("Z") and j["finished_at"], j

    (dead, _) = enqueue(s, type="test.fail", payload={"why": "<b>x</b>"}, max_attempts=2)
    wait_for("a dead job", lambda: job(s, dead)["state"] == "dead")
    d = job(s, dead)
    assert d["attempts"] == 2 and d["last_error"] == "test failure on attempt 2", d
    assert d["payload"] == {"why": "<b>x</b>"}, d
    h = d["attempt_history"]
    assert [a["outcome"] for a in h] == ["retry", "failed"], h
    assert [a["attempt"] for a in h] == [1, 2] and h[0]["error"] == "test failure on attempt 1"
    assert all(a["duration_ms"] >= 0 and a["worker"] for a in h), h
    assert any(x["id"] == dead for x in listing(s, "state=dead&type=test.fail")["items"])

    # retry: queued with a fresh budget, fails twice more, history kept
    r = s.request("POST", "/api/v1/jobs/%d/retry" % dead, headers=AUTH)
    assert r.status == 200 and r.json()["attempts"] == 0, r
    wait_for("dead again", lambda: job(s, dead)["state"] == "dead" and
             len(job(s, dead)["attempt_history"]) == 4)
    r = s.request("POST", "/api/v1/jobs/%d/discard" % dead, headers=AUTH)
    assert r.status == 200 and r.json()["state"] == "discarded", r
    check_problem(s.request("POST", "/api/v1/jobs/%d/discard" % dead, headers=AUTH), 409)
    check_problem(s.request("POST", "/api/v1/jobs/%d/retry" % first, headers=AUTH), 409)
    check_problem(s.request("GET", "/api/v1/jobs/999999999", headers=AUTH), 404)
    check_problem(s.request("POST", "/api/v1/jobs/999999999/retry", headers=AUTH), 404)
    check_problem(s.request("GET", "/api/v1/jobs/abc", headers=AUTH), 422)
    check_problem(s.request("GET", "/api/v1/jobs/0", headers=AUTH), 422)
    # a delayed job can be discarded before it runs
    (later, _) = enqueue(s, type="test.noop", delay_ms=3600000)
    assert job(s, later)["state"] == "queued"
    r = s.request("POST", "/api/v1/jobs/%d/discard" % later, headers=AUTH)
    assert r.status == 200 and r.json()["state"] == "discarded", r

    for bad, field in [("state=bogus", "state"), ("limit=0", "limit"), ("limit=201", "limit"),
                       ("limit=abc", "limit"), ("limit=-1", "limit"), ("before_id=0", "before_id"),
                       ("before_id=99999999999999999999999", "before_id"), ("queue=A", "queue"),
                       ("type=" + "a" * 65, "type"), ("color=red", "color"),
                       ("state=done&state=dead", "state"), ("queue=", "queue"),
                       ("type=x%27%3B%20DROP%20TABLE%20jobs", "type")]:
        p = check_problem(s.request("GET", "/api/v1/jobs?" + bad, headers=AUTH), 422)
        assert [e["field"] for e in p.get("errors", [])] == [field], (bad, p)
    for path, method in [("/api/v1/jobs", "GET"), ("/api/v1/jobs/1", "GET"),
                         ("/api/v1/jobs/1/retry", "POST"), ("/api/v1/jobs/1/discard", "POST")]:
        assert s.request(method, path).status == 401, path
        assert s.request(method, path, headers={"Authorization": "Bearer wrong-token-xxxxxxxx"}
                         ).status in (401, 403), path

    # unique keys collapse while live
    a = enqueue(s, type="test.noop", unique_key="k-1", delay_ms=3600000)[0]
    b = enqueue(s, type="test.noop", unique_key="k-1")[0]
    assert a == b

    m = s.request("GET", "/metrics").body.decode()
    assert 'framefit_jobs{queue="default",state="queued"}' in m, m[-3000:]
    assert "framefit_jobs_oldest_age_seconds{" in m
    assert 'framefit_jobs_attempts_total{outcome="done"}' in m
    assert "# TYPE framefit_jobs gauge" in m


def graceful(framefit, db_url):
    env = dict(FAST, FRAMEFIT_WORKERS="1", FRAMEFIT_SHUTDOWN_TIMEOUT="10")
    s = Server(framefit, db_url=db_url, env=env).start()
    (jid, _) = enqueue(s, type="test.sleep", payload={"ms": 700})
    wait_for("the job to run", lambda: job(s, jid)["state"] == "running")
    s.stop()  # SIGTERM: the job finishes first
    env = dict(FAST, FRAMEFIT_WORKERS="1", FRAMEFIT_SHUTDOWN_TIMEOUT="1")
    with Server(framefit, db_url=db_url, env=env) as s2:
        assert job(s2, jid)["state"] == "done", job(s2, jid)
        (long_id, _) = enqueue(s2, type="test.sleep", payload={"ms": 4000})
        wait_for("the long job to run", lambda: job(s2, long_id)["state"] == "running")
        t0 = time.time()
        s2.stop()  # deadline 1 s: released
        assert time.time() - t0 < 4, "stop waited for the whole job"
        assert "released to the queue" in s2.read_log(), s2.read_log()
    with Server(framefit, db_url=db_url, env=dict(FAST, FRAMEFIT_WORKERS="0")) as s3:
        j = job(s3, long_id)
        assert j["state"] == "queued" and j["attempts"] == 0, j
        assert [a["outcome"] for a in j["attempt_history"]] == ["released"], j


def worker_process(framefit, db_url):
    with Server(framefit, db_url=db_url, env=dict(FAST, FRAMEFIT_WORKERS="0")) as s:
        mail = enqueue(s, type="test.noop", queue="mail", count=20)
        other = enqueue(s, type="test.noop", queue="other", count=5)
        for args in (["--concurrency", "0"], ["--concurrency", "x"], ["--queues", "A,"],
                     ["--queues", ""], ["--queues"], ["--bogus"]):
            p = subprocess.run([framefit, "worker", *args], env=s.env, capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 2 and p.stderr.strip(), (args, p)
        log = open(os.path.join(s.tmp, "worker.log"), "w+b")
        w = subprocess.Popen([framefit, "worker", "--queues", "mail,x", "--concurrency", "3"],
                             env=s.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for("the worker to take the mail queue",
                     lambda: all(job(s, i)["state"] == "done" for i in (mail[0], mail[1])))
            wait_for("all mail jobs",
                     lambda: len(listing(s, "queue=mail&state=done&limit=200")["items"]) == 20)
            assert all(job(s, i)["state"] == "queued" for i in other), "took another queue"
            w.send_signal(signal.SIGTERM)
            assert w.wait(timeout=30) == 0
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
            log.seek(0)
            out = log.read().decode("utf-8", "replace")
            log.close()
        assert "worker ready: 3 thread(s), queues mail,x" in out, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ff-jobs-it-")
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
            db_url = "sqlite://" + os.path.join(tmp, "jobs.db")
        with Server(a.framefit, db_url=db_url, env=dict(FAST, FRAMEFIT_WORKERS="2")) as s:
            staff_endpoints(s)
        print("ok   staff endpoints, retries, dead letters, metrics")
        graceful(a.framefit, db_url)
        print("ok   graceful shutdown: finish, then release at the deadline")
        worker_process(a.framefit, db_url)
        print("ok   framefit worker process limited to its queues")
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
