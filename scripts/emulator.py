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


def roll_transactions_back_by_undo_log():
    """moto backs a transaction up by deep-copying every table it touches (stream records
    included), once per action, and rolls back by putting the copies in place: memory and
    latency grow with the whole table, and stream readers, holding the old table's shard,
    would read the cancelled writes (which DynamoDB never streams) and then nothing more.

    Instead: keep the table objects (no copies), note each item the transaction touches as
    it was, and on failure put those items back and drop the stream records the
    transaction wrote. Same all-or-nothing result, conditions and cancellation reasons;
    the cost is that of the items touched. moto's items and indexes live only in
    `table.items` (indexes are computed when queried), and updates change items in
    place, hence the copies of the touched items."""
    import copy

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def touched(backend, transact_items):
        """(table, hash, range, the item as it is now) for each action's item."""
        out = []
        for action in transact_items:
            op_type, op = next(iter(action.items()))
            table = backend.tables.get(op.get("TableName"))
            attrs = op.get("Item") if op_type == "Put" else op.get("Key")
            if table is None or not isinstance(attrs, dict):
                continue  # moto refuses it before writing anything
            try:
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                current = table.get_item(hash_value, range_value)
            except Exception:
                continue  # an invalid key: moto refuses it before writing it
            out.append((table, hash_value, range_value, copy.deepcopy(current)))
        return out

    def put_back(table, hash_value, range_value, item):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            return
        slot = table.items[hash_value]
        if item is None:
            slot.pop(range_value, None)
            if not slot:
                table.items.pop(hash_value, None)
        else:
            slot[range_value] = item

    def transact_write_items(self, transact_items):
        before = touched(self, transact_items)
        streams = [(t.stream_shard, len(t.stream_shard.items)) for t in self.tables.values() if t.stream_shard]
        # moto's own backup becomes the table itself (its rollback then puts it back in
        # place, changing nothing); the undo log below does the rollback.
        previous = Table.__dict__.get("__deepcopy__")
        Table.__deepcopy__ = lambda table, memo: table
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(before):
                put_back(table, hash_value, range_value, item)
            for shard, length in streams:
                del shard.items[length:]
            raise
        finally:
            if previous is None:
                del Table.__deepcopy__
            else:
                Table.__deepcopy__ = previous

    DynamoDBBackend.transact_write_items = transact_write_items


def trim_consumed_stream_records():
    """moto keeps every stream record and every shard iterator it ever handed out (the
    local stream runner asks for a new one five times a second per table), so memory grew
    with every write and every poll. DynamoDB keeps records 24 hours and iterators 15
    minutes. Here a shard drops the records below the lowest position of its live,
    not yet used iterators (what every reader has consumed), and iterators are forgotten
    15 minutes after they were made, or a minute after they were used (a reader moves on
    with the next one)."""
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    expiry, used_grace = 15 * 60, 60
    made = ShardIterator.__init__

    def __init__(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self.made_at = time.monotonic()
        self.used_at = None

    ShardIterator.__init__ = __init__

    read = StreamShard.get

    def get(self, start, quantity):
        # An iterator left behind the trimmed horizon reads from the horizon (in DynamoDB,
        # records past 24 hours are gone too).
        return read(self, max(start, self.starting_sequence_number), quantity)

    StreamShard.get = get

    get_records = DynamoDBStreamsBackend.get_records

    def get_records_and_trim(self, iterator_arn, limit):
        result = get_records(self, iterator_arn, limit)
        now = time.monotonic()
        self.shard_iterators[iterator_arn].used_at = now
        for arn, it in list(self.shard_iterators.items()):
            if now - it.made_at > expiry or (it.used_at is not None and now - it.used_at > used_grace):
                del self.shard_iterators[arn]
        lowest = {}
        for it in self.shard_iterators.values():
            if it.used_at is None:
                shard = it.stream_shard
                lowest[id(shard)] = (shard, min(it.sequence_number, lowest.get(id(shard), (None, it.sequence_number))[1]))
        for shard, position in lowest.values():
            consumed = min(position - shard.starting_sequence_number, len(shard.items))
            if consumed > 0:
                del shard.items[:consumed]
                shard.starting_sequence_number += consumed
        return result

    DynamoDBStreamsBackend.get_records = get_records_and_trim


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
    keeps only the HTML part of simple messages), and GET /_kabinet/health."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_kabinet/health":
            # Answers only if moto is free to serve: a request stuck inside it holds the lock.
            if self.lock.acquire(timeout=5):
                self.lock.release()
                start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
                return [b"ok"]
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "4")])
            return [b"busy"]
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

    roll_transactions_back_by_undo_log()
    trim_consumed_stream_records()
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
