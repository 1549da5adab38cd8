#!/usr/bin/env python3
"""smtp_server.py --dir DIR [--host 127.0.0.1] [--port 0]

A small SMTP server for tests (Debian python3-aiosmtpd). Every delivered
message is stored as DIR/NNNNNN.eml (the raw bytes) plus DIR/NNNNNN.json
({"mail_from", "rcpt_tos", "eml"}). Prints "PORT <n>" on stdout once listening.

Failures on demand: DIR/rules.json (re-read on every command; write it
atomically) maps a recipient address (lower case) to a rule
    {"code": 450, "text": "mailbox busy", "times": 2, "stage": "rcpt"}
"code" 4xx or 5xx is answered to RCPT TO (stage "rcpt", the default) or at
the end of DATA (stage "data"); "times" limits how many refusals happen
before the address is accepted (absent = always refuse). Counts of refusals
so far are kept in DIR/refused.json."""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, d):
        self.dir = d
        self.n = 0
        self.refused = {}

    def rule(self, addr, stage):
        try:
            with open(os.path.join(self.dir, "rules.json")) as f:
                rules = json.load(f)
        except (OSError, ValueError):
            return None
        r = rules.get(addr.lower())
        if not r or r.get("stage", "rcpt") != stage:
            return None
        key = addr.lower() + "/" + stage
        if "times" in r and self.refused.get(key, 0) >= r["times"]:
            return None
        self.refused[key] = self.refused.get(key, 0) + 1
        tmp = os.path.join(self.dir, "refused.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.refused, f)
        os.replace(tmp, os.path.join(self.dir, "refused.json"))
        code = int(r.get("code", 550))
        text = r.get("text", "refused by the test server")
        enh = "%d.%d.%d" % (code // 100, 2 if code // 100 == 4 else 1, 0)
        return "%d %s %s" % (code, enh, text)

    def save(self, envelope):
        self.n += 1
        base = os.path.join(self.dir, "%06d" % self.n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.content if isinstance(envelope.content, bytes)
                    else envelope.content.encode())
        os.replace(base + ".eml.tmp", base + ".eml")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "eml": os.path.basename(base) + ".eml"}
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.replace(base + ".json.tmp", base + ".json")  # the .json appears last


class Handler:
    def __init__(self, store):
        self.store = store

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.store.rule(address, "rcpt")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for r in envelope.rcpt_tos:
            refusal = self.store.rule(r, "data")
            if refusal:
                return refusal
        self.store.save(envelope)
        return "250 2.0.0 Ok: queued as %06d" % self.store.n


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    store = Store(a.dir)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(
        lambda: SMTP(Handler(store), hostname="localhost", data_size_limit=64 << 20),
        host=a.host, port=a.port)
    port = srv.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    srv.close()
    await srv.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
