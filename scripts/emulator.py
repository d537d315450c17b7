"""kabinet's local AWS emulator: moto's WSGI app (DynamoDB with streams, S3, SES v2) on
loopback, one request at a time.

Stock `moto_server` is threaded and its conditional writes are not atomic under concurrent
requests, so DynamoDB conditions (use limits, the last admin) would not hold locally. This
launcher keeps a threaded HTTP server (slow clients do not block each other's sockets) but
runs moto itself under one lock, which makes every request atomic.

Usage: emulator.py [--host 127.0.0.1] [--port 0] [--parent-pid PID]
Prints `READY <port>` on stdout once it accepts connections. With --parent-pid it exits
when that process is gone, so a test run never leaves an emulator behind.
"""

import argparse
import json
import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server


def keep_streams_through_cancelled_transactions():
    """moto rolls a cancelled transaction back by putting a copy of each table in place of
    the table. Stream readers hold the old table's shard, so they would read the cancelled
    writes (which DynamoDB never streams) and then nothing more. Restore the state into
    the same table object instead, keeping its shard and dropping the cancelled records."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        before = {
            name: (table, len(table.stream_shard.items) if table.stream_shard is not None else 0)
            for name, table in self.tables.items()
        }
        try:
            return original(self, transact_items)
        except Exception:
            for name, (table, length) in before.items():
                current = self.tables.get(name)
                if current is not None and current is not table:
                    shard = table.stream_shard
                    table.__dict__.update(current.__dict__)
                    table.stream_shard = shard
                    if shard is not None:
                        del shard.items[length:]
                    self.tables[name] = table
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


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


class SerializedApp:
    """Runs the wrapped WSGI app, body iteration included, under one lock.

    Also serves GET /_kabinet/mail: the mail SES accepted (moto's own record of sent mail
    keeps only the HTML part of simple messages)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_kabinet/mail":
            with self.lock:
                body = json.dumps(sent_mail()).encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args()

    keep_streams_through_cancelled_transactions()
    app = SerializedApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
