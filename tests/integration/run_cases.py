#!/usr/bin/env python3
"""run_cases.py --framefit BIN [--pg] [--seed] [FILE_OR_DIR...]

Runs data-driven HTTP cases (format: see ffharness.py) against a fresh
`framefit serve`: on SQLite by default; with --pg on a throwaway PostgreSQL 15
cluster from tests/pg/pg-start.sh (exit 77 = skipped when PostgreSQL is not
available), or against FF_TEST_PG_URL when that is set. Each case file gets
its own server (fresh data dir or fresh database state is up to the suite:
PostgreSQL runs share one database, so cases must not depend on emptiness).
Default: every tests/integration/cases/*.json."""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ffharness import Server, run_case_file  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framefit", required=True)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--seed", action="store_true", help="run framefit seed before serving")
    ap.add_argument("--token", default="it-admin-token-0123456789abcdef")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    files = []
    for p in a.paths or [os.path.join(HERE, "cases")]:
        files += sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]

    db_url, pg_state = None, None
    if a.pg:
        db_url = os.environ.get("FF_TEST_PG_URL")
        if not db_url:
            start = os.path.join(REPO, "tests", "pg", "pg-start.sh")
            if not os.path.exists(start):
                print("SKIP: tests/pg/pg-start.sh not present")
                return 77
            pg_state = tempfile.mkdtemp(prefix="ff-it-pg-")
            subprocess.run(["bash", start, pg_state], check=True, stdout=subprocess.DEVNULL)
            url_file = os.path.join(pg_state, "url")
            if not os.path.exists(url_file):
                print("SKIP: PostgreSQL 15 is not available")
                return 77
            db_url = open(url_file).read().strip()
    try:
        total = 0
        for f in files:
            with Server(a.framefit, db_url=db_url, seed=a.seed,
                        env={"FRAMEFIT_ADMIN_TOKEN": a.token}) as s:
                n = run_case_file(s, f)
                total += n
                print("ok   %s (%d cases)" % (os.path.basename(f), n))
        print("%d cases passed on %s" % (total, "postgres" if db_url else "sqlite"))
        return 0
    finally:
        if pg_state:
            subprocess.run(["sh", os.path.join(REPO, "tests", "pg", "pg-stop.sh"), pg_state])


if __name__ == "__main__":
    sys.exit(main())
