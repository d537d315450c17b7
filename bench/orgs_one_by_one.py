"""Issue 10's first measurement, repeated: against a running `make dev`, one process
creates organizations one after another and adds 4 members to each (sequential
requests), and reports every 25 organizations the p50 of POST /orgs and POST members and
the emulator's RSS.

Usage: .venv/bin/python bench/orgs_one_by_one.py --emulator http://127.0.0.1:PORT
       [--api http://127.0.0.1:3000] [--orgs 100] [--every 25]
(the emulator's address is on `make dev`'s console). Tokens come from `kabinet-local token`.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def token(n):
    out = subprocess.run([os.path.join(ROOT, "target/debug/kabinet-local"), "token", "--email",
                          f"p{n}.{os.getpid()}@one-by-one.test", "--name", "Иванов Иван Иванович"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def call(api, method, path, tok, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api + "/v1" + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        answer = json.loads(r.read() or b"null")
    return answer, (time.perf_counter() - started) * 1000


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--api", default="http://127.0.0.1:3000")
    p.add_argument("--emulator", required=True)
    p.add_argument("--orgs", type=int, default=100)
    p.add_argument("--every", type=int, default=25)
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "-p", "kabinet-local", "--bin", "kabinet-local"], cwd=ROOT, check=True)
    admin = token(0)
    call(a.api, "GET", "/me", admin)
    orgs, members, n = [], [], 0
    print("| organizations | POST /orgs p50 | POST members p50 | emulator RSS |")
    print("| ---: | ---: | ---: | ---: |")
    for i in range(1, a.orgs + 1):
        org, ms = call(a.api, "POST", "/orgs", admin, {"name": f"Школа №{i}"})
        orgs.append(ms)
        for _ in range(4):
            n += 1
            t = token(n)
            me, _ = call(a.api, "GET", "/me", t)
            _, ms = call(a.api, "POST", f"/orgs/{org['id']}/members", admin,
                         {"user_id": me["id"], "roles": [{"role": "teacher", "position": "Учитель"}]})
            members.append(ms)
        if i % a.every == 0:
            rss = json.load(urllib.request.urlopen(a.emulator + "/_kabinet/stats"))["rss_bytes"]
            print(f"| {i} | {statistics.median(orgs[-a.every:]):.0f} ms | "
                  f"{statistics.median(members[-4 * a.every:]):.0f} ms | {rss / 1e6:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
