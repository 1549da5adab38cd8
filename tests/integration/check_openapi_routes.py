#!/usr/bin/env python3
"""check_openapi_routes.py FRAMEFIT OPENAPI_JSON - every route the router
registers (`framefit serve --print-routes`, without test routes) is an
operation in the document, and every operation is a registered route."""
import json
import os
import subprocess
import sys

framefit, spec_path = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEFIT_")}
out = subprocess.run([framefit, "serve", "--print-routes"], env=env, check=True,
                     capture_output=True, text=True).stdout
routes = {tuple(line.split(" ", 1)) for line in out.splitlines() if line.strip()}
routes = {(m.lower(), p) for m, p in routes}
spec = json.load(open(spec_path))
ops = set()
for path, item in spec.get("paths", {}).items():
    for m in ("get", "put", "post", "delete", "options", "head", "patch"):
        if m in item:
            ops.add((m, path))
missing_in_spec = sorted(routes - ops)
missing_in_router = sorted(ops - routes)
for m, p in missing_in_spec:
    print("route %s %s is not in %s" % (m.upper(), p, spec_path))
for m, p in missing_in_router:
    print("operation %s %s is documented but not registered" % (m.upper(), p))
if not routes:
    print("no routes printed")
    sys.exit(1)
print("%d routes, %d operations" % (len(routes), len(ops)))
sys.exit(1 if missing_in_spec or missing_in_router else 0)
