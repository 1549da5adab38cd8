#!/usr/bin/env python3
"""test_jobs_crash.py --framefit BIN [--pg] [--jobs N] [--workers K] [--seed S]

The crash proof of the job queue: `framefit worker` processes are SIGKILLed at
random moments while thousands of jobs run, and restarted; at the end every
job must be done and its effect must have happened exactly once.

The job type test.effect (registered only with FRAMEFIT_TEST_ROUTES=1) inserts
one row (job_id, worker pid) into the table test_effects, which has no unique
key, in the same transaction that marks the job done (jobs_register_tx), after
sleeping a few milliseconds so that kills land inside handlers. A duplicate
effect would show as two rows for one job_id; a lost one as none.

PostgreSQL: K worker processes (4 threads each) on a throwaway cluster.
SQLite: one worker process (2 threads), killed repeatedly.
Leases are short (FRAMEFIT_JOBS_LEASE_MS=1000) so killed jobs come back fast."""
import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
EFFECTS_PG = "CREATE TABLE test_effects (id BIGSERIAL PRIMARY KEY, job_id BIGINT NOT NULL," \
             " worker TEXT NOT NULL)"
EFFECTS_SQLITE = "CREATE TABLE test_effects (id INTEGER PRIMARY KEY, job_id BIGINT NOT NULL," \
                 " worker TEXT NOT NULL)"


class DB:
    def __init__(self, url):
        self.url = url

    def query(self, sql):
        """One row of integers."""
        if self.url.startswith("sqlite://"):
            con = sqlite3.connect(self.url[len("sqlite://"):], timeout=60)
            try:
                row = con.execute(sql).fetchone()
                con.commit()
            finally:
                con.close()
            return [int(x) if x is not None else None for x in row] if row else None
        out = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                             check=True, capture_output=True, text=True).stdout.strip()
        return [int(x) if x else None for x in out.split("|")] if out else None

    def exec(self, sql):
        if self.url.startswith("sqlite://"):
            con = sqlite3.connect(self.url[len("sqlite://"):], timeout=60)
            con.execute(sql)
            con.commit()
            con.close()
        else:
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                           check=True, stdout=subprocess.DEVNULL)


class Workers:
    def __init__(self, framefit, env, n, concurrency, tmp):
        self.framefit, self.env, self.tmp = framefit, env, tmp
        self.concurrency = concurrency
        self.procs = [None] * n
        self.logs = []
        self.starts = 0

    def start(self, i):
        log = open(os.path.join(self.tmp, "worker-%d-%d.log" % (i, self.starts)), "wb")
        self.logs.append(log)
        self.starts += 1
        self.procs[i] = subprocess.Popen(
            [self.framefit, "worker", "--concurrency", str(self.concurrency)], env=self.env,
            stdout=log, stderr=subprocess.STDOUT)

    def kill(self, i):
        p = self.procs[i]
        p.send_signal(signal.SIGKILL)  # only processes this test started
        p.wait()
        if p.returncode != -signal.SIGKILL:
            raise AssertionError("worker %d exited %s before it was killed" % (i, p.returncode))

    def alive(self):
        for i, p in enumerate(self.procs):
            if p.poll() is not None:
                raise AssertionError("worker %d exited by itself (%s); log:\n%s" % (
                    i, p.returncode, open(self.logs[-1].name).read()[-3000:]))

    def stop_all(self):
        for p in self.procs:
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            if p:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in self.logs:
            log.close()


def run(framefit, db_url, pg, njobs, nworkers, concurrency, seed, budget_s, tmp):
    rnd = random.Random(seed)
    db = DB(db_url)
    env = {"FRAMEFIT_JOBS_LEASE_MS": "1000", "FRAMEFIT_JOBS_POLL_MS": "20",
           "FRAMEFIT_JOBS_BACKOFF_MS": "10", "FRAMEFIT_JOBS_BACKOFF_MAX_MS": "100",
           "FRAMEFIT_WORKERS": "0", "FRAMEFIT_LOG_LEVEL": "info",
           "FRAMEFIT_DB_POOL_SIZE": str(concurrency + 4)}
    with Server(framefit, db_url=db_url, env=env) as s:  # enqueues; runs no jobs itself
        db.exec(EFFECTS_PG if pg else EFFECTS_SQLITE)
        sleep_ms = 30 if pg else 8
        left = njobs
        while left:
            n = min(left, 2000)
            r = s.request("POST", "/__test/jobs", {"type": "test.effect", "count": n,
                                                   "payload": {"sleep_ms": sleep_ms},
                                                   "max_attempts": 1000})
            assert r.status == 200, r
            left -= n
        env = dict(s.env, FRAMEFIT_DATA_DIR=os.path.join(tmp, "worker-data"),
                   FRAMEFIT_SECRET_KEY="ab" * 32)
        os.makedirs(env["FRAMEFIT_DATA_DIR"], exist_ok=True)
    ids = db.query("SELECT min(id), max(id), count(*) FROM jobs WHERE type = 'test.effect'")
    assert ids[2] == njobs, ids

    w = Workers(framefit, env, nworkers, concurrency, tmp)
    kills = 0
    t0 = time.time()
    try:
        for i in range(nworkers):
            w.start(i)
        while True:
            time.sleep(rnd.uniform(0.15, 0.6))
            done = db.query("SELECT count(*) FROM jobs WHERE type = 'test.effect'"
                            " AND state = 'done'")[0]
            if done == njobs:
                break
            if time.time() - t0 > budget_s:
                raise AssertionError("only %d of %d jobs done after %ds" % (done, njobs, budget_s))
            w.alive()
            # stop killing once most jobs are done so the tail finishes; the
            # restarted workers then pick up what the killed ones held
            if done < njobs * 0.9:
                i = rnd.randrange(nworkers)
                w.kill(i)
                kills += 1
                if rnd.random() < 0.3:
                    time.sleep(rnd.uniform(0, 0.3))  # sometimes stay down a moment
                w.start(i)
        elapsed = time.time() - t0
    finally:
        w.stop_all()

    effects, distinct = db.query("SELECT count(*), count(DISTINCT job_id) FROM test_effects")
    dups = db.query("SELECT count(*) FROM (SELECT job_id FROM test_effects GROUP BY job_id"
                    " HAVING count(*) > 1) d")[0]
    missing = db.query("SELECT count(*) FROM jobs j WHERE type = 'test.effect' AND NOT EXISTS"
                       " (SELECT 1 FROM test_effects e WHERE e.job_id = j.id)")[0]
    strays = db.query("SELECT count(*) FROM test_effects e WHERE NOT EXISTS"
                      " (SELECT 1 FROM jobs j WHERE j.id = e.job_id AND j.type = 'test.effect')")[0]
    not_done = db.query("SELECT count(*) FROM jobs WHERE type = 'test.effect'"
                        " AND state <> 'done'")[0]
    lost = db.query("SELECT count(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id"
                    " WHERE j.type = 'test.effect' AND a.outcome = 'lost'")[0]
    reran = db.query("SELECT count(*) FROM jobs WHERE type = 'test.effect' AND attempts > 1")[0]
    workers = db.query("SELECT count(DISTINCT worker) FROM test_effects")[0]
    print("%s: %d jobs, %d worker process(es) x %d threads, %d SIGKILLs, %d starts,"
          " %.1fs; effects %d (distinct %d), duplicates %d, missing %d, not done %d;"
          " attempts lost to kills %d, jobs run more than once %d, effects written by %d pids"
          % ("postgres" if pg else "sqlite", njobs, nworkers, concurrency, kills, w.starts,
             elapsed, effects, distinct, dups, missing, not_done, lost, reran, workers))
    assert not_done == 0, "jobs left undone"
    assert effects == njobs and distinct == njobs, (effects, distinct)
    assert dups == 0 and missing == 0 and strays == 0, (dups, missing, strays)
    assert kills >= 3, "too few kills to prove anything (%d)" % kills
    assert lost >= 1, "no kill landed on a running job"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--budget", type=int, default=240, help="seconds before giving up")
    a = ap.parse_args()
    framefit = os.path.abspath(a.framefit)
    print("seed %d" % a.seed)
    tmp = tempfile.mkdtemp(prefix="ff-jobs-crash-")
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
            if not shutil.which("psql"):
                print("SKIP: psql is not available")
                return 77
            db_url = open(url_file).read().strip()
            run(framefit, db_url, True, a.jobs or 6000, a.workers or 3, 4, a.seed, a.budget, tmp)
        else:
            db_url = "sqlite://" + os.path.join(tmp, "crash.db")
            run(framefit, db_url, False, a.jobs or 2000, 1, 2, a.seed, a.budget, tmp)
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
