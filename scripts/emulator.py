"""kabinet's local AWS emulator: moto's WSGI app (DynamoDB with streams, S3, SES v2,
Secrets Manager) on loopback, one request at a time.

Stock `moto_server` is threaded and its conditional writes are not atomic under concurrent
requests, so DynamoDB conditions (use limits, the last admin) would not hold locally. This
launcher keeps a threaded HTTP server (slow clients do not block each other's sockets) but
runs moto itself under one lock, which makes every request atomic.

Usage: emulator.py [--host 127.0.0.1] [--port 0] [--parent-pid PID] [--state FILE --schema S]
Prints `READY <port>` on stdout once it accepts connections. With --parent-pid it exits
when that process is gone, so a test run never leaves an emulator behind. With --state it
loads FILE if it exists (`STATE LOADED FILE`, or `STATE REFUSED <why>` and exit 3 when FILE
was saved by another moto, Python or schema) and saves it on POST /_kabinet/state. moto never
expires items by TTL: POST /_kabinet/expire removes those past their TTL as DynamoDB does.
moto checks no signature: presigned PUTs that sign `content-length` are checked here, as S3
refuses another length.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server


# KABINET_EMULATOR_VERIFY=1 (the test suite): every shortcut below is also taken moto's
# own way, and a difference fails the request.
VERIFY = os.environ.get("KABINET_EMULATOR_VERIFY") == "1"


def mark_touched(table, hash_value, range_value):
    """Notes that a write changed (or may have changed) this item: `query_only_the_candidates`
    re-reads it into its index map at the next query."""
    dirty = table.__dict__.get("_kabinet_dirty")
    if dirty is not None:
        dirty.add((hash_value, range_value))


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
        mark_touched(table, hash_value, range_value)
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


def query_only_the_candidates():
    """moto answers every Query by sorting every item of the table (its `all_items`) and
    then filtering, for a global index and for the table alike, so every read and every
    write that queries grew with the whole table. Here a query sees only its candidates:
    for the table, the items of its partition within the sort-key condition (and the one
    next to them on each side, which moto pages past); for a global index, the items whose
    index hash key is the one asked, from a per-table map kept up to date from the keys
    each write touched (marked on every write, applied at the next query). moto still does
    the matching, sorting, paging and filtering, unchanged.

    With KABINET_EMULATOR_VERIFY=1 each query is also answered moto's way and a
    difference fails the request (the test suite runs so)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import GlobalSecondaryIndex, Table

    touched = mark_touched

    def item_at(table, key):
        slot = table.items.get(key[0])
        if table.range_key_attr is None:
            return slot
        return None if slot is None else slot.get(key[1])

    def index_hash_attr(index):
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        return hashes[0] if len(hashes) == 1 else None

    def global_indexes(table):
        """{index name: {hash value: set of table keys}}, brought up to date."""
        state = table.__dict__.get("_kabinet_gsi")
        if state is None:
            state = {"by_index": {}, "entries": {}}
            table._kabinet_gsi, table._kabinet_dirty = state, set()
            keys = [(i.hash_key, i.range_key) for i in table.all_items()]
        else:
            keys, table._kabinet_dirty = table._kabinet_dirty, set()
        attrs = {i.name: index_hash_attr(i) for i in table.global_indexes or []}
        for key in keys:
            for name, value in state["entries"].pop(key, ()):
                bucket = state["by_index"][name][value]
                bucket.discard(key)
                if not bucket:
                    del state["by_index"][name][value]
            item = item_at(table, key)
            if item is None:
                continue
            entries = []
            for name, attr in attrs.items():
                value = item.attrs.get(attr) if attr else None
                if value is not None:
                    state["by_index"].setdefault(name, {}).setdefault(value, set()).add(key)
                    entries.append((name, value))
            if entries:
                state["entries"][key] = entries
        return state["by_index"]

    def within_and_beside(items, range_comparison, range_objs):
        """The items within the sort-key condition, and the nearest item on each side of
        them: moto pages over the whole partition, and a page that is full when one more
        item follows it (matching or not, in either direction) gets a LastEvaluatedKey."""
        within, others = [], []
        for i in items:
            inside = i.range_key is not None and i.range_key.compare(range_comparison, range_objs)
            (within if inside else others).append(i)
        if not within:
            return within
        low = min(i.range_key for i in within)
        high = max(i.range_key for i in within)
        before = [i for i in others if i.range_key is not None and i.range_key < low]
        after = [i for i in others if i.range_key is not None and i.range_key > high]
        beside = [max(before, key=lambda i: i.range_key)] if before else []
        beside += [min(after, key=lambda i: i.range_key)] if after else []
        return within + beside

    def candidates(table, hash_key, range_comparison, range_objs, index_name, kwargs):
        if index_name is None:
            slot = table.items.get(hash_key) if hash_key is not None else None
            if slot is None:
                return []
            found = list(slot.values()) if table.range_key_attr else [slot]
            if range_comparison and len(kwargs.get("range_key_conditions") or []) <= 1:
                found = within_and_beside(found, range_comparison, range_objs)
            return found
        index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
        attr = index_hash_attr(index) if isinstance(index, GlobalSecondaryIndex) else None
        value = dict(kwargs.get("hash_key_conditions") or []).get(attr) if attr else None
        if value is None:
            return None  # a local index or an odd key: moto's own way
        keys = global_indexes(table).get(index_name, {}).get(value, ())
        return [item for item in (item_at(table, k) for k in keys) if item is not None]

    original_query = Table.query

    def query(self, hash_key, range_comparison, range_objs, *args, **kwargs):
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        found = candidates(self, hash_key, range_comparison, range_objs, index_name, kwargs)
        if found is None:
            return original_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
        self.all_items = lambda: found
        try:
            answer = original_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
        finally:
            del self.all_items
        if VERIFY:
            full = original_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
            if [i.to_json() for i in answer[0]] != [i.to_json() for i in full[0]] or answer[1:] != full[1:]:
                print(f"kabinet emulator: query on {self.name} index {index_name} differs from moto's", file=sys.stderr, flush=True)
                raise RuntimeError("narrowed query differs from moto's answer")
        return answer

    Table.query = query

    put, delete = Table.put_item, Table.delete_item

    def put_item(self, *args, **kwargs):
        item = put(self, *args, **kwargs)
        touched(self, item.hash_key, item.range_key)
        return item

    def delete_item(self, hash_key, range_key):
        item = delete(self, hash_key, range_key)
        touched(self, hash_key, range_key)
        return item

    Table.put_item, Table.delete_item = put_item, delete_item

    update = DynamoDBBackend.update_item

    def update_item(self, table_name, key, *args, **kwargs):
        try:
            return update(self, table_name, key, *args, **kwargs)
        finally:
            # Updates change items in place, and may have changed some before failing.
            table = self.tables.get(table_name)
            if table is not None and isinstance(key, dict) and table.hash_key_attr in key:
                range_attr = table.range_key_attr
                range_value = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
                touched(table, DynamoType(key[table.hash_key_attr]), range_value)

    DynamoDBBackend.update_item = update_item


def serialize_dynamodb_answers_as_json():
    """moto 5.2 writes every answer through a generic, model-driven serializer that walks
    each attribute of each item against the service model: the largest cost of a DynamoDB
    read or stream poll. DynamoDB's JSON protocol is the answer as it is (attribute values
    are already in their wire form), so its data operations' answers are written with
    json.dumps; anything that is not plain JSON (a binary attribute's bytes) goes moto's
    way. Timestamps (stream records) are epoch seconds with milliseconds, as moto writes them.

    Also: moto listed its own package directory on every request to route it; the list is
    read once.

    With KABINET_EMULATOR_VERIFY=1 each answer is also made moto's way and a
    difference fails the request."""
    import calendar
    import datetime
    import functools

    from moto import backends
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    plain = {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem",
             "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "GetRecords", "GetShardIterator"}

    def default(value):
        if isinstance(value, datetime.datetime):
            # Epoch seconds with milliseconds (truncated), as moto's serializer writes them.
            seconds = calendar.timegm(value.utctimetuple())
            return (seconds * 1000 + value.microsecond // 1000) / 1000
        raise TypeError("not plain JSON")

    def without_nulls(value):
        if isinstance(value, dict):
            return {k: without_nulls(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [without_nulls(v) for v in value]
        return value

    original = BaseResponse.serialized

    @functools.wraps(original)
    def serialized(self, action_result):
        result = action_result.result
        if (isinstance(self, (DynamoHandler, DynamoDBStreamsHandler)) and isinstance(result, dict)
                and self._get_action() in plain):
            try:
                body = json.dumps(without_nulls(result), default=default, separators=(",", ":"))
            except (TypeError, ValueError):
                return original(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            if VERIFY:
                status, _, theirs = original(self, action_result)
                if status != 200 or json.loads(theirs) != json.loads(body):
                    print(f"kabinet emulator: {self._get_action()} answer differs from moto's: {body[:300]} / {theirs[:300]}",
                          file=sys.stderr, flush=True)
                    raise RuntimeError("plain JSON answer differs from moto's")
            return 200, headers, body
        return original(self, action_result)

    BaseResponse.serialized = serialized


def parse_each_update_expression_once():
    """moto parses an UpdateItem's expression twice a request (to check it, then to apply
    it), from its text each time. The parsed tree is only read (the validator that
    resolves names and values works on a deep copy of it), so one tree per distinct
    expression text is kept (the application writes a few dozen)."""
    import functools

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__
    cached = functools.lru_cache(maxsize=1024)(lambda expression: make(UpdateExpressionParser, expression))
    UpdateExpressionParser.make = classmethod(lambda cls, expression: cached(expression))


def apply_plain_updates_directly():
    """moto applies an UpdateItem by checking its expression's tree with ten walkers and
    executing it on a copy: the largest cost of a write. The updates kabinet makes are
    plain: `SET name = :value`, `SET name = if_not_exists(name, :value)`, counters
    (`SET n = n + :d`, `SET n = if_not_exists(n, :zero) - :d`, integers only) and
    `REMOVE name`, on top-level non-key attributes. Those are applied directly (the
    condition is still moto's); any other expression goes moto's way. Upserts write one
    INSERT stream record, as DynamoDB does (moto wrote two).

    With KABINET_EMULATOR_VERIFY=1 each is also applied moto's way to a copy and a
    difference fails the request."""
    import copy
    import re

    from moto.dynamodb.comparisons import create_condition_expression_parser, get_expected
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    name = r"#?[A-Za-z_][A-Za-z0-9_]*"
    token = r":[A-Za-z0-9_]+"
    # x = :v | x = if_not_exists(x, :v) | x = x ± :v | x = if_not_exists(x, :v) ± :w
    set_value = re.compile(rf"^({name})\s*=\s*({token})$")
    set_if_missing = re.compile(rf"^({name})\s*=\s*if_not_exists\(\s*({name})\s*,\s*({token})\s*\)$")
    set_sum = re.compile(rf"^({name})\s*=\s*(?:({name})|if_not_exists\(\s*({name})\s*,\s*({token})\s*\))"
                         rf"\s*([+-])\s*({token})$")
    plain_names = re.compile(rf"^{name}$")

    def plan(expression, names, values):
        """[(op, attribute, value, how)] or None when not plain. `how` is "value",
        "if_missing" or ("sum", sign, fallback value or None): integer arithmetic only
        (anything else, and a missing or non-integer operand, goes moto's way)."""
        m = re.fullmatch(r"\s*SET\s+(.+?)(?:\s+REMOVE\s+(.+?))?\s*", expression or "", re.S)
        if not m or re.search(r"\b(ADD|DELETE)\b|\[|\.", expression):
            return None
        steps = []
        for clause in re.split(r",(?![^()]*\))", m.group(1)):
            clause = clause.strip()
            if c := set_value.match(clause):
                target, used, how = c.group(1), c.group(2), "value"
            elif c := set_if_missing.match(clause):
                target, same, used, how = c.group(1), c.group(2), c.group(3), "if_missing"
                if same != target:
                    return None
            elif c := set_sum.match(clause):
                target, same, same_or_missing, fallback, sign, used = c.groups()
                if (same or same_or_missing) != target or (fallback is not None and fallback not in values):
                    return None
                how = ("sum", sign, values[fallback] if fallback is not None else None)
            else:
                return None
            if used not in values:
                return None
            steps.append(("SET", target, values[used], how))
        for removed in (m.group(2) or "").split(",") if m.group(2) else []:
            if not plain_names.match(removed.strip()):
                return None
            steps.append(("REMOVE", removed.strip(), None, "value"))
        resolved = []
        for op, target, value, how in steps:
            if target.startswith("#"):
                if target not in (names or {}):
                    return None
                target = names[target]
            resolved.append((op, target, value, how))
        attrs = [t for _, t, _, _ in resolved]
        if len(set(attrs)) != len(attrs):
            return None
        return resolved

    def integer(value):
        return isinstance(value, dict) and list(value) == ["N"] and re.fullmatch(r"-?[0-9]+", value["N"]) is not None

    def sums_computable(steps, item):
        """Every `x ± :v` has an integer base (the item's, or the fallback) and operand."""
        for _, target, value, how in steps:
            if isinstance(how, tuple):
                current = item.attrs.get(target) if item is not None else None
                base = current.to_json() if current is not None else how[2]
                if not (integer(base) and integer(value)):
                    return False
        return True

    def empty(value):
        return isinstance(value, dict) and (value.get("S") == "" or value.get("B") in ("", b""))

    original = DynamoDBBackend.update_item

    def update_item(self, table_name, key, update_expression, expression_attribute_names,
                    expression_attribute_values, attribute_updates=None, expected=None,
                    condition_expression=None, return_values_on_condition_check_failure=None):
        table = self.tables.get(table_name)
        steps = None
        if table is not None and not attribute_updates and not expected and isinstance(key, dict):
            steps = plan(update_expression, expression_attribute_names, expression_attribute_values or {})
        # Index keys may be set, with their declared type (moto checks that too).
        typed = {a["AttributeName"]: a["AttributeType"] for a in (table.attr if table is not None else [])}
        if (steps is None or table.hash_key_attr not in key
                or (table.range_key_attr is not None and table.range_key_attr not in key)
                or any(t in (table.hash_key_attr, table.range_key_attr) for _, t, _, _ in steps)
                or any(t in typed and (op != "SET" or how != "value" or not isinstance(v, dict)
                                       or list(v) != [typed[t]])
                       for op, t, v, how in steps)
                or any(empty(v) for _, _, v, _ in steps)
                or len(json.dumps(expression_attribute_values or {}, default=str)) > 100_000):
            return original(self, table_name, key, update_expression, expression_attribute_names,
                            expression_attribute_values, attribute_updates, expected, condition_expression,
                            return_values_on_condition_check_failure)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
        if not sums_computable(steps, item):
            return original(self, table_name, key, update_expression, expression_attribute_names,
                            expression_attribute_values, attribute_updates, expected, condition_expression,
                            return_values_on_condition_check_failure)
        condition = create_condition_expression_parser(
            condition_expression, expression_attribute_names, expression_attribute_values).parse()
        if not condition.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        before = copy.deepcopy(item)
        shadow = copy.deepcopy(item) if VERIFY else None
        if item is None:
            data = {table.hash_key_attr: key[table.hash_key_attr]}
            if table.range_key_attr:
                data[table.range_key_attr] = key[table.range_key_attr]
            item = Item(hash_value, range_value, data)
            if range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item
        for op, target, value, how in steps:
            if op == "REMOVE":
                item.attrs.pop(target, None)
            elif isinstance(how, tuple):
                current = item.attrs.get(target)
                base = int((current.to_json() if current is not None else how[2])["N"])
                total = base + int(value["N"]) if how[1] == "+" else base - int(value["N"])
                item.attrs[target] = DynamoType({"N": str(total)})
            elif not (how == "if_missing" and target in item.attrs):
                item.attrs[target] = DynamoType(value)
        mark_touched(table, hash_value, range_value)
        if table.stream_shard is not None:
            table.stream_shard.add(before, item)
        if VERIFY:
            if shadow is None:
                shadow = Item(hash_value, range_value, {k: v for k, v in item.to_json()["Attributes"].items()
                                                         if k in (table.hash_key_attr, table.range_key_attr)})
            ast = UpdateExpressionParser.make(update_expression)
            checked = UpdateExpressionValidator(ast, expression_attribute_names=expression_attribute_names,
                                                expression_attribute_values=expression_attribute_values,
                                                item=shadow, table=table).validate()
            checked.normalize()
            UpdateExpressionExecutor(checked, shadow, expression_attribute_names).execute()
            if shadow.to_json() != item.to_json():
                print(f"kabinet emulator: update differs from moto's: {update_expression}", file=sys.stderr, flush=True)
                raise RuntimeError("direct update differs from moto's")
        return item

    DynamoDBBackend.update_item = update_item


KEPT_MAIL = 5000


def keep_only_recent_mail():
    """moto keeps every message SES accepted, whole, for ever: memory grew with every
    email. The local mail page needs the recent ones; the last 5,000 are kept."""
    from moto.ses.models import SESBackend

    def trimmed(send):
        def wrapper(self, *args, **kwargs):
            result = send(self, *args, **kwargs)
            if len(self.sent_messages) > KEPT_MAIL:
                del self.sent_messages[: len(self.sent_messages) - KEPT_MAIL]
            return result

        return wrapper

    for name in ("send_email", "send_templated_email", "send_bulk_templated_email", "send_raw_email"):
        if hasattr(SESBackend, name):
            setattr(SESBackend, name, trimmed(getattr(SESBackend, name)))


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


# What a state file keeps: moto's backends of the services kabinet uses (stream iterators
# are not kept; the stream runner asks for new ones and reads what is left on the stream).
STATE_BACKENDS = [
    ("moto.dynamodb.models", "dynamodb_backends"),
    ("moto.s3.models", "s3_backends"),
    ("moto.ses.models", "ses_backends"),
    ("moto.sesv2.models", "sesv2_backends"),
    ("moto.secretsmanager.models", "secretsmanager_backends"),
]
STATE_FORMAT = 1


def state_header(schema):
    import moto

    return {"kabinet_state": STATE_FORMAT, "moto": moto.__version__,
            "python": "%d.%d" % sys.version_info[:2], "schema": schema}


def save_state(path, schema):
    """Writes every kept backend to `path` (a JSON header line, then a pickle), through a
    temporary file renamed in place: a crash mid-save leaves the previous state whole."""
    import importlib
    import pickle

    backends = {f"{m}.{n}": dict(getattr(importlib.import_module(m), n)) for m, n in STATE_BACKENDS}
    tmp = f"{path}.saving"
    with open(tmp, "wb") as f:
        f.write(json.dumps(state_header(schema)).encode() + b"\n")
        pickle.dump(backends, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return os.path.getsize(path)


def load_state(path, schema):
    """Reads a state file saved by `save_state` and puts it in place, or refuses it (one
    line saying why) before changing anything."""
    import importlib
    import pickle

    with open(path, "rb") as f:
        try:
            header = json.loads(f.readline())
        except ValueError:
            header = None
        expected = state_header(schema)
        if not isinstance(header, dict) or header.get("kabinet_state") is None:
            raise StateRefused(f"{path} is not a kabinet dev state file")
        for field, what in [("kabinet_state", "state format"), ("moto", "emulator (moto)"),
                            ("python", "Python"), ("schema", "kabinet table schema")]:
            if header.get(field) != expected[field]:
                raise StateRefused(f"{path} was saved with {what} {header.get(field)}, this is {expected[field]}")
        try:
            backends = pickle.load(f)
        except Exception as e:
            raise StateRefused(f"{path} is damaged ({type(e).__name__})")
    for m, n in STATE_BACKENDS:
        target = getattr(importlib.import_module(m), n)
        target.clear()
        target.update(backends.get(f"{m}.{n}", {}))


class StateRefused(Exception):
    pass


def stats():
    """What the emulator holds: its resident memory, and per table its items and stream
    records (for the load benchmark)."""
    from moto.dynamodb.models import dynamodb_backends

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
    from moto.ses.models import ses_backends

    mail = sum(len(b.sent_messages) for account in ses_backends.values() for b in account.values())
    operations = {op: {"count": c, "seconds": round(t, 3)} for op, (c, t) in sorted(OPERATIONS.items())}
    return {"rss_bytes": rss, "tables": tables, "mail": mail, "operations": operations}


# DynamoDB marks the deletions its TTL makes so in their stream records (Lambda hands the
# same identity to consumers as `{"type": ..., "principalId": ...}`).
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


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


# Per operation: how many requests moto served and the seconds it spent on them (under the
# lock), for GET /_kabinet/stats: where the emulator's time goes.
OPERATIONS = {}


class SerializedApp:
    """Runs the wrapped WSGI app, body iteration included, under one lock.

    Also serves GET /_kabinet/mail: the mail SES accepted (moto's own record of sent mail
    keeps only the HTML part of simple messages), GET /_kabinet/health, GET /_kabinet/stats,
    POST /_kabinet/expire (DynamoDB's TTL, now: see `expire_items`), and, when the
    emulator keeps its state in a file, POST /_kabinet/state (save it now)."""

    def __init__(self, app, state=None, schema=None):
        self.app = app
        self.lock = threading.Lock()
        self.state, self.schema = state, schema

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_kabinet/health":
            # Answers only if moto is free to serve: a request stuck inside it holds the lock.
            if self.lock.acquire(timeout=5):
                self.lock.release()
                start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
                return [b"ok"]
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "4")])
            return [b"busy"]
        if environ.get("PATH_INFO") == "/_kabinet/state" and environ.get("REQUEST_METHOD") == "POST":
            if self.state is None:
                start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "8")])
                return [b"no state"]
            with self.lock:
                size = save_state(self.state, self.schema)
            body = json.dumps({"path": self.state, "bytes": size}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/_kabinet/expire" and environ.get("REQUEST_METHOD") == "POST":
            # {"table": name (optional), "now": epoch seconds (optional)}: TTL, now.
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                asked = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
                table, now = asked.get("table"), asked.get("now")
            except (ValueError, AttributeError):
                start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "13")])
                return [b"not JSON body"]
            with self.lock:
                body = json.dumps({"removed": expire_items(table, now)}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/_kabinet/stats":
            with self.lock:
                body = json.dumps(stats()).encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == "/_kabinet/mail":
            with self.lock:
                body = json.dumps(sent_mail()).encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        refused = presigned_put_refused(environ)
        if refused is not None:
            buffer_body(environ)  # read, so the connection stays usable
            return refuse_signature(start_response, refused)
        buffer_body(environ)
        with self.lock:
            started = time.perf_counter()
            try:
                result = self.app(environ, start_response)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception as e:
                return failed_inside_moto(environ, start_response, e)
            finally:
                count, seconds = OPERATIONS.get(operation_of(environ), (0, 0.0))
                OPERATIONS[operation_of(environ)] = (count + 1, seconds + time.perf_counter() - started)
        return [body]


def buffer_body(environ):
    """Reads the request's whole body before moto runs, outside the lock: a slow upload
    does not hold every other request, and moto reads a buffer, never the socket. (An S3
    PUT sent as a form, curl's default type for `--data-binary`, had moto wait under the
    lock for bytes already read as a form: the emulator stopped answering.) Bodies past
    8 MiB spill to a temporary file."""
    stream = environ["wsgi.input"]
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0
    chunked = environ.get("wsgi.input_terminated", False)
    while chunked or remaining > 0:
        chunk = stream.read(1 << 16 if chunked else min(1 << 16, remaining))
        if not chunk:
            break
        spool.write(chunk)
        remaining -= len(chunk)
    if chunked:
        # Now of known length, as moto expects.
        environ["CONTENT_LENGTH"] = str(spool.tell())
        environ["wsgi.input_terminated"] = False
    spool.seek(0)
    environ["wsgi.input"] = spool
    if environ.get("REQUEST_METHOD") == "PUT" and environ.get("CONTENT_TYPE", "").startswith(FORM):
        # S3 stores a PUT's bytes whatever its type; moto's server would parse them as a
        # form (and refuse a large one): it sees them as plain bytes.
        environ["CONTENT_TYPE"] = "binary/octet-stream"


FORM = "application/x-www-form-urlencoded"


# The secret of the credentials the local SDK clients sign with (functions/local's
# `sdk_config`): the emulator can check what they presign.
PRESIGN_KEYS = {"test": "test"}


def presigned_put_refused(environ):
    """moto checks no signature, so a presigned PUT that signs `content-length` (the upload
    URLs of files and imports) would store a body of any length. S3 refuses it: the
    signature covers the length the URL was made for, and a request of another length
    does not match it. Here such a PUT's query signature (SigV4) is checked against the
    request as sent; a mismatch answers S3's 403 SignatureDoesNotMatch. Other requests,
    and URLs signed with credentials the emulator does not know, go on unchecked.
    Answers the error's message, or None."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl, quote

    if environ.get("REQUEST_METHOD") != "PUT":
        return None
    raw_query = environ.get("QUERY_STRING", "")
    query = parse_qsl(raw_query, keep_blank_values=True)
    params = dict(query)
    signed = params.get("X-Amz-SignedHeaders", "").split(";")
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "content-length" not in signed:
        return None
    credential = params.get("X-Amz-Credential", "").split("/")
    secret = PRESIGN_KEYS.get(credential[0]) if len(credential) == 5 else None
    if secret is None:
        return None
    # The path as sent (already encoded once, as S3 signs it).
    uri = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")).split("?")[0]
    encode = lambda v: quote(v, safe="-_.~")
    canonical_query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(
        (k, v) for k, v in query if k != "X-Amz-Signature"))
    header = {"host": environ.get("HTTP_HOST", ""), "content-length": environ.get("CONTENT_LENGTH", ""),
              "content-type": environ.get("CONTENT_TYPE", "")}
    headers = "".join(
        f"{h}:{' '.join((header[h] if h in header else environ.get('HTTP_' + h.upper().replace('-', '_'), '')).split())}\n"
        for h in signed)
    canonical = "\n".join(["PUT", uri, canonical_query, headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    scope = "/".join(credential[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params.get("X-Amz-Date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in credential[1:]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if hmac.compare_digest(signature, params.get("X-Amz-Signature", "")):
        return None
    return ("The request signature we calculated does not match the signature you provided "
            f"(signed headers: {';'.join(signed)}, content-length {header['content-length']}).")


def refuse_signature(start_response, message):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
            f"<Message>{message}</Message></Error>").encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


REST_OPERATIONS = {("POST", "/v2/email/outbound-emails"): "SES v2 SendEmail"}
LAST_FAILURE = [None, 0.0]


def operation_of(environ):
    """The AWS operation a request asks for, in words for a log line."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.replace("_20120810.", " ").replace("_20120810", "")
    method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "?")
    return REST_OPERATIONS.get((method, path), f"{method} {path}")


def failed_inside_moto(environ, start_response, error):
    """A request moto itself failed on (a gap or a bug in the emulator, not a refusal of
    AWS's): one log line with the operation, and a 500 InternalFailure, which the SDK
    retries and then reports, instead of a traceback from the HTTP server per retry."""
    line = (f"kabinet emulator: {operation_of(environ)} failed inside moto: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    # The SDK retries a 500: its retries of the same failure are not logged again.
    now = time.monotonic()
    if line != LAST_FAILURE[0] or now - LAST_FAILURE[1] > 10:
        print(line, file=sys.stderr, flush=True)
    LAST_FAILURE[:] = [line, now]
    body = json.dumps({"__type": "InternalFailure", "message": "the emulator failed on this request"}).encode()
    start_response("500 Internal Server Error", [("Content-Type", "application/x-amz-json-1.0"),
                                                 ("x-amzn-ErrorType", "InternalFailure"),
                                                 ("Content-Length", str(len(body)))], sys.exc_info())
    return [body]


class QuietHandler(WSGIRequestHandler):
    # The server writes a response's headers and body apart: with Nagle's algorithm the
    # body then waited for the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True

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
    parser.add_argument("--state", default=None, help="a state file: loaded now if it exists, saved by POST /_kabinet/state")
    parser.add_argument("--schema", default="", help="what the state must have been saved for (kabinet's table schema)")
    args = parser.parse_args()
    if args.parent_pid:
        # The parent decides when this process ends (it saves the state first): a Ctrl-C
        # meant for the terminal's foreground group must not stop it mid-save.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    roll_transactions_back_by_undo_log()
    trim_consumed_stream_records()
    apply_plain_updates_directly()
    query_only_the_candidates()
    serialize_dynamodb_answers_as_json()
    keep_only_recent_mail()
    parse_each_update_expression_once()
    if args.state and os.path.exists(args.state):
        try:
            load_state(args.state, args.schema)
        except StateRefused as e:
            print(f"STATE REFUSED {e}", flush=True)
            sys.exit(3)
        print(f"STATE LOADED {args.state}", flush=True)
    app = SerializedApp(DomainDispatcherApplication(create_backend_app), args.state, args.schema)
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
