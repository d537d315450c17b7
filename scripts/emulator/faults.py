"""Faults AWS answers now and then, injected on purpose: throttling, errors, cancelled
transactions and latency, per service and operation, at a given rate.

A fault is answered *instead* of moto (the request never reaches it, so nothing of it
happens), in the shape the service answers it, so the SDK sees what it would see from AWS
(and retries what it retries). Latency is added before the request goes in (outside the
serializing lock: other requests go on meanwhile).

The configuration is one JSON object (`KABINET_EMULATOR_FAULTS` at start, `GET`/`PUT
/_kabinet/faults` while running):

    {"dynamodb:*:throttle": 0.1,
     "dynamodb:TransactWriteItems:conflict": {"rate": 1, "match": "01JABCDEF"},
     "sesv2:SendEmail:too_many": 0.05,
     "s3:*:slowdown": 0.1,
     "*:*:latency_ms": 20,
     "seed": 42}

Each key but `seed` is `service:operation:kind` (`*` for any operation; for any service
with `latency_ms` only). Its value is a rate from 0 to 1 (for `latency_ms`: milliseconds,
always added), or an object `{"rate": r, "ms": m, "match": "text"}` (`match`: only requests
whose path, query or body (its first MiB) contain the text, e.g. an organization's ID or a
table's name), or a list of such objects. Rules are tried in the document's order; the
first error fault drawn is answered. `seed` makes the draws repeatable (without it they
are seeded at random).
"""

import json
import os
import random
import re
import sys
import threading
import time
import uuid

# Kinds of fault per service: (status, error code) as the service answers them.
KINDS = {
    "dynamodb": {
        # ProvisionedThroughputExceededException (the SDK retries it as throttling).
        "throughput": (400, "ProvisionedThroughputExceededException"),
        "throttle": (400, "ThrottlingException"),
        "internal": (500, "InternalServerError"),
        # TransactWriteItems: cancelled with a TransactionConflict reason; a single write
        # (PutItem, UpdateItem, DeleteItem): TransactionConflictException.
        "conflict": (400, "TransactionCanceledException"),
    },
    "sesv2": {
        "too_many": (429, "TooManyRequestsException"),
        "rejected": (400, "MessageRejected"),
    },
    "s3": {
        "slowdown": (503, "SlowDown"),
        "internal": (500, "InternalError"),
    },
    "dynamodbstreams": {},
    "secretsmanager": {},
}
LATENCY = "latency_ms"
SERVICES = sorted(KINDS)
SINGLE_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
OPERATION = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9]*)$")
MATCH_BYTES = 1 << 20


class Refused(ValueError):
    """A fault configuration that cannot be: the message says which part and why."""


class Rule:
    def __init__(self, key, service, operation, kind, rate, ms, match):
        self.key, self.service, self.operation, self.kind = key, service, operation, kind
        self.rate, self.ms, self.match = rate, ms, match

    def applies(self, service, operation):
        if self.service not in ("*", service) or self.operation not in ("*", operation):
            return False
        if self.kind == "conflict":
            return operation == "TransactWriteItems" or operation in SINGLE_WRITES
        return True


def number(key, field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise Refused(f"{key}: {field} must be a number from {low} to {high}, not {json.dumps(value)}")
    return float(value)


def parse(document):
    """The rules and the seed of a configuration (a JSON text or an already parsed object);
    raises Refused saying what is wrong."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document or "{}")
        except ValueError as e:
            raise Refused(f"not JSON: {e}") from None
    if not isinstance(document, dict):
        raise Refused("the configuration is a JSON object of \"service:operation:kind\": rate")
    seed, rules = None, []
    for key, value in document.items():
        if key == "seed":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Refused(f"seed must be a whole number, not {json.dumps(value)}")
            seed = value
            continue
        parts = key.split(":")
        if len(parts) != 3:
            raise Refused(f"{key}: a key is \"service:operation:kind\" (or \"seed\")")
        service, operation, kind = parts
        if service != "*" and service not in KINDS:
            raise Refused(f"{key}: no service {service!r} (one of {', '.join(SERVICES)} or *)")
        if not OPERATION.match(operation):
            raise Refused(f"{key}: the operation is an AWS operation's name (PutItem, SendEmail...) or *")
        if kind != LATENCY:
            if service == "*":
                raise Refused(f"{key}: any service (*) takes {LATENCY} only; error kinds are per service")
            if kind not in KINDS[service]:
                known = ", ".join(sorted(KINDS[service]) + [LATENCY])
                raise Refused(f"{key}: {service} has no fault {kind!r} (it has {known})")
        for one in (value if isinstance(value, list) else [value]):
            rate, ms, match = 1.0, 0.0, None
            if isinstance(one, dict):
                unknown = set(one) - {"rate", "ms", "match"}
                if unknown:
                    raise Refused(f"{key}: unknown field(s) {', '.join(sorted(unknown))} (rate, ms, match)")
                rate = number(key, "rate", one.get("rate", 1), 0, 1)
                if kind == LATENCY:
                    ms = number(key, "ms", one.get("ms", 0), 0, 60_000)
                elif "ms" in one:
                    raise Refused(f"{key}: ms is for {LATENCY} only")
                match = one.get("match")
                if match is not None and (not isinstance(match, str) or not match):
                    raise Refused(f"{key}: match is a non-empty text")
            elif kind == LATENCY:
                ms = number(key, "milliseconds", one, 0, 60_000)
            else:
                rate = number(key, "rate", one, 0, 1)
            rules.append(Rule(key, service, operation, kind, rate, ms,
                              match.encode("utf-8") if match is not None else None))
    return document, seed, rules


class Faults:
    """The configuration in force, its random draws and what it injected."""

    def __init__(self, log=sys.stderr):
        self.lock = threading.Lock()
        self.document, self.rules = {}, []
        self.random = random.Random()
        self.counts = {}
        self.log = log
        self.last_report, self.reported = 0.0, 0

    def configure(self, document):
        """Replaces the configuration (seeding the draws again); raises Refused, changing
        nothing, when it cannot be. Answers the configuration as parsed."""
        parsed, seed, rules = parse(document)
        with self.lock:
            changed = parsed != self.document
            self.document, self.rules = parsed, rules
            self.random = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "big"))
        if self.log is not None and changed:
            said = ", ".join(f"{r.key} {summary(r)}" for r in rules) or "none"
            print(f"kabinet emulator: faults: {said}", file=self.log, flush=True)
        return parsed

    def config(self):
        with self.lock:
            return dict(self.document)

    def stats(self):
        """Injected faults by service, operation and kind."""
        out = {}
        with self.lock:
            for (service, operation, kind), n in sorted(self.counts.items()):
                out.setdefault(service, {}).setdefault(operation, {})[kind] = n
        return out

    def decide(self, environ):
        """For one request (its body buffered): (milliseconds to wait, the fault's answer
        or None). Counts what it injects."""
        if not self.rules:
            return 0.0, None
        service, operation = service_of(environ), operation_of(environ)
        latency, fault, haystack = 0.0, None, None
        with self.lock:
            for rule in self.rules:
                if not rule.applies(service, operation):
                    continue
                if rule.kind != LATENCY and fault is not None:
                    continue
                if rule.match is not None:
                    if haystack is None:
                        haystack = request_text(environ)
                    if rule.match not in haystack:
                        continue
                if rule.rate < 1 and self.random.random() >= rule.rate:
                    continue
                if rule.kind == LATENCY:
                    latency = max(latency, rule.ms)
                else:
                    fault = rule.kind
            for kind in ([LATENCY] if latency else []) + ([fault] if fault else []):
                self.counts[(service, operation, kind)] = self.counts.get((service, operation, kind), 0) + 1
            report = self.report_due() if fault or latency else None
        if report:
            print(report, file=self.log, flush=True)
        if fault is None:
            return latency, None
        return latency, answer(service, operation, fault, environ)

    def report_due(self):
        """A console line of what was injected, at most every 10 seconds (under the lock)."""
        total = sum(self.counts.values())
        now = time.monotonic()
        if self.log is None or total == self.reported or now - self.last_report < 10:
            return None
        self.last_report, self.reported = now, total
        by_kind = {}
        for (service, _, kind), n in self.counts.items():
            by_kind[f"{service} {kind}"] = by_kind.get(f"{service} {kind}", 0) + n
        return ("kabinet emulator: faults injected so far: "
                + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))


def summary(rule):
    what = f"{rule.ms:g} ms" if rule.kind == LATENCY else ""
    if rule.rate < 1 or rule.kind != LATENCY:
        what = (what + " " if what else "") + f"{rule.rate:.0%}"
    if rule.match is not None:
        what += f" of requests with {rule.match.decode()}"
    return what


def request_text(environ):
    """The request's path, query and body (its first MiB), where `match` looks."""
    stream = environ["wsgi.input"]
    at = stream.tell()
    body = stream.read(MATCH_BYTES)
    stream.seek(at)
    head = f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}\n".encode("latin-1", "replace")
    return head + body


def credential_scope_service(environ):
    """The service a request is signed for (`Credential=<key>/<date>/<region>/<service>/...`)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    credential = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    if not credential:
        query = environ.get("QUERY_STRING", "")
        found = re.search(r"(?:^|&)X-Amz-Credential=([^&]*)", query)
        credential = found.group(1).replace("%2F", "/").replace("%2f", "/") if found else ""
    parts = credential.split("/")
    return parts[3] if len(parts) >= 5 else ""


def service_of(environ):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDBStreams_"):
        return "dynamodbstreams"
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    if target.startswith("secretsmanager."):
        return "secretsmanager"
    scope = credential_scope_service(environ)
    if scope == "ses" or environ.get("PATH_INFO", "").startswith("/v2/email/"):
        return "sesv2"
    return scope if scope in KINDS else "s3"


SES_OPERATIONS = [
    ("POST", re.compile(r"^/v2/email/outbound-emails$"), "SendEmail"),
    ("POST", re.compile(r"^/v2/email/identities$"), "CreateEmailIdentity"),
    ("GET", re.compile(r"^/v2/email/identities/[^/]+$"), "GetEmailIdentity"),
    ("GET", re.compile(r"^/v2/email/identities$"), "ListEmailIdentities"),
    ("GET", re.compile(r"^/v2/email/account$"), "GetAccount"),
]


def operation_of(environ):
    """The AWS operation's name (PutItem, SendEmail, PutObject...)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    if path.startswith("/v2/email/"):
        for m, pattern, name in SES_OPERATIONS:
            if m == method and pattern.match(path):
                return name
        return "Other"
    return s3_operation(method, path, environ.get("QUERY_STRING", ""), environ)


def s3_operation(method, path, query, environ):
    """An S3 operation from a path-style request."""
    params = {p.split("=", 1)[0] for p in query.split("&") if p}
    parts = path.strip("/").split("/", 1)
    if not parts[0]:
        return "ListBuckets"
    if len(parts) == 1 or not parts[1]:
        if method == "GET":
            return "ListObjectsV2" if "list-type" in params else "ListObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
                "POST": "DeleteObjects"}.get(method, "Other")
    if method == "PUT":
        if "partNumber" in params:
            return "UploadPart"
        return "CopyObject" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "PutObject"
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in params else "CompleteMultipartUpload"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, "Other")


DYNAMODB_MESSAGES = {
    "ProvisionedThroughputExceededException": (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API."),
    "ThrottlingException": ("com.amazon.coral.availability#ThrottlingException",
                            "Rate of requests exceeds the allowed throughput."),
    "InternalServerError": ("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
}
STATUS_TEXT = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}


def answer(service, operation, kind, environ):
    """The fault as the service answers it: a WSGI app of one response."""
    status, code = KINDS[service][kind]
    request_id = uuid.uuid4().hex.upper()
    headers = []
    if service == "dynamodb":
        if kind == "conflict":
            body = transaction_conflict(operation, environ)
        else:
            type_, message = DYNAMODB_MESSAGES[code]
            body = {"__type": type_, "message": message}
        content = json.dumps(body).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
    elif service == "sesv2":
        message = ("Maximum sending rate exceeded." if kind == "too_many"
                   else "Email address is not verified. (injected by the emulator)")
        content = json.dumps({"message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                   ("x-amzn-RequestId", request_id)]
    else:
        message = ("Please reduce your request rate." if kind == "slowdown"
                   else "We encountered an internal error. Please try again.")
        content = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   f"<Error><Code>{code}</Code><Message>{message}</Message>"
                   f"<RequestId>{request_id[:16]}</RequestId></Error>").encode()
        if environ.get("REQUEST_METHOD") == "HEAD":
            content = b""  # S3 answers a HEAD's error without a body
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id[:16])]

    def app(start_response):
        start_response(f"{status} {STATUS_TEXT[status]}", headers + [("Content-Length", str(len(content)))])
        return [content]

    return app


def transaction_conflict(operation, environ):
    if operation != "TransactWriteItems":
        return {"__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                "message": "Transaction is ongoing for the item"}
    stream = environ["wsgi.input"]
    at = stream.tell()
    try:
        items = len(json.loads(stream.read() or b"{}").get("TransactItems", []))
    except (ValueError, AttributeError):
        items = 1
    finally:
        stream.seek(at)
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"} for _ in range(max(items, 1) - 1)]
    codes = ", ".join(r["Code"] for r in reasons)
    return {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            "CancellationReasons": reasons}


# The emulator's one configuration (set from KABINET_EMULATOR_FAULTS by __main__).
ACTIVE = Faults()
