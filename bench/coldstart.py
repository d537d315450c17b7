"""kabinet's cold-start benchmark (`make bench-coldstart`).

Runs Lambda functions the way the Lambda service does, against a fake Runtime API on
loopback: start the process, wait for its first `GET /invocation/next` (init), hand it an
API Gateway HTTP API event, wait for its answer (init + first answer), then hand it more
events (warm). The artifact answers `GET /v1/orgs/{org}` from the emulator, as the
function `orgs-get` does in AWS; the baseline is a bare `lambda_http` function built with
the same profile. Runs alternate between the two; the figures are medians.

Usage: coldstart.py --artifact PATH --bare PATH [--runs 21] [--warm 20]
          [--kabinet-local PATH] [--python PATH]
"""

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "/2018-06-01/runtime"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """One process's invocations: events to hand out, and when things happened."""

    def __init__(self):
        self.events = queue.Queue()
        self.next_at = queue.Queue()  # times of each GET /next
        self.answers = queue.Queue()  # (time, status, body) of each response
        self.sent_at = {}
        self.trace = []  # what the runtime asked, for a failure's report


class RuntimeApi(BaseHTTPRequestHandler):
    run = None  # the Run this server serves (a server of its own per run)
    # Keep-alive, as the Lambda service's: the runtime client reuses its connection.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and delayed ACKs
    # add ~40 ms to every invocation.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith(PREFIX + "/invocation/next"):
            self.send_error(404)
            return
        run = self.server.run
        run.trace.append(("GET", self.path))
        run.next_at.put(time.perf_counter())
        request_id, event = run.events.get()
        if request_id is None:  # the run is over: leave the process waiting
            time.sleep(3600)
            return
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 15000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        run.sent_at[request_id] = time.perf_counter()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # a process of an earlier run, killed meanwhile
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        now = time.perf_counter()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        run = self.server.run
        run.trace.append(("POST", self.path, body[:200]))
        parts = self.path[len(PREFIX):].split("/")
        if self.path.startswith(PREFIX + "/invocation/") and parts[-1] in ("response", "error"):
            run.answers.put((now, parts[2], parts[-1], body))
        elif self.path.startswith(PREFIX + "/init/error"):
            run.answers.put((now, None, "init_error", body))


class RuntimeServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A process killed at the end of its run drops its connections: not an error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def api_event(org, sub, email):
    return {
        "version": "2.0",
        "routeKey": "GET /v1/orgs/{org}",
        "rawPath": f"/v1/orgs/{org}",
        "rawQueryString": "",
        "headers": {"accept": "application/json"},
        "pathParameters": {"org": org},
        "requestContext": {
            "routeKey": "GET /v1/orgs/{org}",
            "accountId": "123456789012",
            "stage": "$default",
            "requestId": "bench",
            "authorizer": {"jwt": {"claims": {"sub": sub, "email": email, "email_verified": "true", "name": "Bench"},
                                   "scopes": None}},
            "apiId": "api",
            "domainName": "api.example",
            "domainPrefix": "api",
            "time": "23/Nov/2026:04:37:55 +0000",
            "timeEpoch": 1795406275000,
            "http": {"method": "GET", "path": f"/v1/orgs/{org}", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "bench"},
        },
        "isBase64Encoded": False,
    }


def measure(binary, env, event, warm):
    """One cold start and `warm` warm invocations: (init, first, [warm...]) in ms. Each run
    has a Runtime API server of its own: a killed process's last poll must not take the
    next run's events."""
    run = Run()
    server = RuntimeServer(("127.0.0.1", 0), RuntimeApi)
    server.run = run
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    for i in range(warm + 1):
        run.events.put((f"req-{i}", event))
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        init = (run.next_at.get(timeout=10) - started) * 1000
        answers = []
        for i in range(warm + 1):
            at, request_id, kind, body = run.answers.get(timeout=10)
            if kind != "response":
                raise RuntimeError(f"{binary}: {kind}: {body[:300]!r}")
            status = json.loads(body).get("statusCode")
            if status != 200:
                raise RuntimeError(f"{binary}: answered {status}: {body[:300]!r}")
            answers.append((at, request_id))
        first = (answers[0][0] - started) * 1000
        warm_ms = [(at - run.sent_at[rid]) * 1000 for at, rid in answers[1:]]
        run.events.put((None, None))
        return init, first, warm_ms
    except (queue.Empty, RuntimeError):
        log.seek(0)
        sys.stderr.write(f"{binary} printed:\n{log.read()[-3000:].decode(errors='replace')}\n"
                         f"it asked: {run.trace}\nexit: {proc.poll()}\n")
        raise
    finally:
        proc.kill()
        proc.wait()
        server.shutdown()
        server.server_close()


def start_emulator(python):
    proc = subprocess.Popen(
        [python, os.path.join(ROOT, "scripts/emulator"), "--port", "0", "--parent-pid", str(os.getpid())],
        stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("READY "):
            return proc, f"http://127.0.0.1:{line.split()[1]}"
    raise RuntimeError("the emulator did not start")


def make_org(kabinet_local, endpoint, home):
    """An organization (and its admin) in the emulator, made through the local gateway."""
    port = free_port()
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, KABINET_LOCAL_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn",
               HOME=home)
    gw = subprocess.Popen([kabinet_local], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        email = "bench@school.test"
        token = subprocess.run([kabinet_local, "token", "--email", email], env=env, capture_output=True, text=True,
                               check=True).stdout.strip()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/orgs", method="POST",
                                     data=json.dumps({"name": "Школа №1"}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        org = json.load(urllib.request.urlopen(req))["id"]
        return org, "dev-bench-school-test", email
    finally:
        gw.kill()
        gw.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--artifact", required=True)
    p.add_argument("--bare", required=True)
    p.add_argument("--runs", type=int, default=21)
    p.add_argument("--warm", type=int, default=20)
    p.add_argument("--kabinet-local", default=os.path.join(ROOT, "target/debug/kabinet-local"))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--lambda-certs", action=argparse.BooleanOptionalAction, default=True,
                   help="CA certificates in one bundle, as on Lambda (default)")
    args = p.parse_args()

    home = tempfile.mkdtemp(prefix="kabinet-bench-")  # no ~/.aws, as in Lambda
    emulator, endpoint = start_emulator(args.python)
    try:
        org, sub, email = make_org(args.kabinet_local, endpoint, home)
        base = {
            "PATH": os.environ.get("PATH", ""), "HOME": home,
            "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_LAMBDA_LOG_GROUP_NAME": "bench", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test",
            "AWS_ENDPOINT_URL": endpoint, "KABINET_TABLE": "kabinet", "RUST_LOG": "info",
            "_HANDLER": "orgs-get", "LAMBDA_TASK_ROOT": home,
        }
        if args.lambda_certs:
            # Lambda's provided.al2023 keeps its CA certificates in one bundle
            # (/etc/pki/tls/certs/ca-bundle.crt); this machine may spread them over
            # hundreds of files that the SDK's TLS setup would read one by one.
            certs = tempfile.mkdtemp(prefix="kabinet-bench-certs-")
            base.update(SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt", SSL_CERT_DIR=certs)
        event = api_event(org, sub, email)
        # Warm the emulator itself (its first call to a service is slow), untimed.
        measure(args.artifact, base, event, 1)
        results = {"kabinet": ([], [], []), "bare": ([], [], [])}
        for i in range(args.runs):
            for name, binary in (("kabinet", args.artifact), ("bare", args.bare)) if i % 2 == 0 else \
                    (("bare", args.bare), ("kabinet", args.artifact)):
                init, first, warm = measure(binary, base, event, args.warm)
                results[name][0].append(init)
                results[name][1].append(first)
                results[name][2].extend(warm)
        print(f"cold start, {args.runs} alternating runs each, medians (ms); warm: {args.warm} invocations a run")
        print(f"{'function':10} {'init':>8} {'init+first':>11} {'warm':>8} {'size':>11} {'zipped':>11}")
        for name, binary in (("kabinet", args.artifact), ("bare", args.bare)):
            init, first, warm = results[name]
            size = os.path.getsize(binary)
            print(f"{name:10} {statistics.median(init):8.2f} {statistics.median(first):11.2f} "
                  f"{statistics.median(warm):8.2f} {size:11,d} {zipped_size(binary):11,d}")
        ratio = statistics.median(results["kabinet"][0]) / statistics.median(results["bare"][0])
        print(f"kabinet init / bare init: {ratio:.2f}x")
    finally:
        emulator.kill()


def zipped_size(binary):
    """The size of the zip Lambda receives (the binary as `bootstrap`, deflate level 9)."""
    import zipfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bootstrap.zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.write(binary, "bootstrap")
        return os.path.getsize(path)


if __name__ == "__main__":
    main()
