"""The emulator's own endpoints, beside AWS's:

- GET /_kabinet/health: 200 when moto is free to serve (503 when a request is stuck in it);
- GET /_kabinet/mail: the mail SES accepted (moto's own record of sent mail keeps only the
  HTML part of simple messages);
- GET /_kabinet/mail-events?after=<seq>: the bounces and complaints of SES's mailbox
  simulator's addresses, as EventBridge delivers them (patches/mail_events.py), after `seq`;
- GET /_kabinet/stats: resident memory, items and stream records per table, mail kept,
  requests and seconds per AWS operation (where the emulator's time goes), and the
  faults injected by service, operation and kind;
- GET /_kabinet/faults: the fault configuration in force; PUT /_kabinet/faults: replace
  it (`faults.py` says how it reads; `{}` for none; refused with 400 and why, changing
  nothing);
- POST /_kabinet/expire {"table"?, "now"?}: DynamoDB's TTL, now (`expire_items`);
- POST /_kabinet/state: save the state file now (when the emulator keeps one).
"""

import json
import time

from . import faults
from .state import save_state

# Per operation: how many requests moto served and the seconds it spent on them (under the
# lock), for GET /_kabinet/stats (written by server.SerializedApp).
OPERATIONS = {}

# DynamoDB marks the deletions its TTL makes so in their stream records (Lambda hands the
# same identity to consumers as `{"type": ..., "principalId": ...}`).
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def answer(start_response, status, body, content_type="application/json"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def serve(app, environ, start_response):
    """Answers one of the endpoints above, or None when the request is not for them.
    `app` is the SerializedApp (its lock, state file and schema)."""
    path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
    if path == "/_kabinet/health":
        # Answers only if moto is free to serve: a request stuck inside it holds the lock.
        if app.lock.acquire(timeout=5):
            app.lock.release()
            return answer(start_response, "200 OK", b"ok", "text/plain")
        return answer(start_response, "503 Service Unavailable", b"busy", "text/plain")
    if path == "/_kabinet/state" and method == "POST":
        if app.state is None:
            return answer(start_response, "404 Not Found", b"no state", "text/plain")
        with app.lock:
            size = save_state(app.state, app.schema)
        return answer(start_response, "200 OK", json.dumps({"path": app.state, "bytes": size}).encode())
    if path == "/_kabinet/expire" and method == "POST":
        # {"table": name (optional), "now": epoch seconds (optional)}: TTL, now.
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            asked = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            table, now = asked.get("table"), asked.get("now")
        except (ValueError, AttributeError):
            return answer(start_response, "400 Bad Request", b"not JSON body", "text/plain")
        with app.lock:
            body = json.dumps({"removed": expire_items(table, now)}).encode()
        return answer(start_response, "200 OK", body)
    if path == "/_kabinet/faults":
        if method == "GET":
            return answer(start_response, "200 OK", json.dumps(faults.ACTIVE.config()).encode())
        if method == "PUT":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                config = faults.ACTIVE.configure(environ["wsgi.input"].read(length) if length else b"{}")
            except faults.Refused as e:
                return answer(start_response, "400 Bad Request", str(e).encode(), "text/plain; charset=utf-8")
            return answer(start_response, "200 OK", json.dumps(config).encode())
        return answer(start_response, "405 Method Not Allowed", b"GET or PUT", "text/plain")
    if path == "/_kabinet/stats":
        with app.lock:
            body = json.dumps(stats()).encode("utf-8")
        return answer(start_response, "200 OK", body)
    if path == "/_kabinet/mail-events":
        from urllib.parse import parse_qs

        from .patches import mail_events

        try:
            seq = int(parse_qs(environ.get("QUERY_STRING", "")).get("after", ["0"])[0])
        except ValueError:
            return answer(start_response, "400 Bad Request", b"after: a whole number", "text/plain")
        return answer(start_response, "200 OK", json.dumps(mail_events.after(seq)).encode("utf-8"))
    if path == "/_kabinet/mail":
        with app.lock:
            body = json.dumps(sent_mail()).encode("utf-8")
        return answer(start_response, "200 OK", body)
    return None


def sent_mail():
    """Every message SES has accepted, as raw MIME where it was sent raw."""
    from moto.ses.models import RawMessage, ses_backends

    out = []
    for account in ses_backends.values():
        for backend in account.values():
            for m in backend.sent_messages:
                if isinstance(m, RawMessage):
                    out.append({"id": m.id, "source": m.source, "destinations": m.destinations, "raw": m.raw_data})
                else:
                    out.append({"id": m.id, "source": m.source, "destinations": m.destinations,
                                "subject": getattr(m, "subject", ""), "body": getattr(m, "body", "")})
    return out


def stats():
    """What the emulator holds: its resident memory, and per table its items and stream
    records (for the load benchmark)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    tables = {}
    for account in dynamodb_backends.values():
        for backend in account.values():
            for name, table in backend.tables.items():
                tables[name] = {"items": len(table),
                                "stream_records": len(table.stream_shard.items) if table.stream_shard else 0}
    mail = sum(len(b.sent_messages) for account in ses_backends.values() for b in account.values())
    operations = {op: {"count": c, "seconds": round(t, 3)} for op, (c, t) in sorted(OPERATIONS.items())}
    return {"rss_bytes": rss, "tables": tables, "mail": mail, "operations": operations,
            "faults": faults.ACTIVE.stats()}


def expire_items(table_name=None, now=None):
    """Does what DynamoDB's TTL does, on demand (moto never expires items): removes the
    items whose TTL attribute (a number, epoch seconds) is at or before `now` (default:
    the clock), in the tables that have TTL enabled (or only `table_name`), each with a
    REMOVE stream record marked as the service's. Answers how many went, per table."""
    from moto.dynamodb.models import dynamodb_backends

    now = time.time() if now is None else float(now)
    removed = {}
    for account in dynamodb_backends.values():
        for backend in account.values():
            for name, table in backend.tables.items():
                if table_name is not None and name != table_name:
                    continue
                ttl = table.ttl or {}
                attr = ttl.get("AttributeName")
                if ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                    continue
                due = []
                for item in table.all_items():
                    value = item.attrs.get(attr)
                    if value is None or value.type != "N":
                        continue
                    try:
                        expires = float(value.value)
                    except ValueError:
                        continue
                    if expires <= now:
                        due.append((item.hash_key, item.range_key))
                for hash_key, range_key in due:
                    shard = table.stream_shard
                    before = len(shard.items) if shard is not None else 0
                    if table.delete_item(hash_key, range_key) is None:
                        continue
                    if shard is not None and len(shard.items) > before:
                        shard.items[-1].record["userIdentity"] = dict(TTL_IDENTITY)
                    removed[name] = removed.get(name, 0) + 1
    return removed
