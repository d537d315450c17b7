"""Cancelled transactions rolled back by an undo log of the items they touched.

moto: backs a transaction up by deep-copying every table it touches (stream records
included), once per action, and rolls back by putting the copies in place: memory and
latency grow with the whole table, and stream readers, holding the old table's shard,
would read the cancelled writes (which DynamoDB never streams) and then nothing more.

kabinet: its notifier reads the table's stream through cancelled transactions (a use limit
or the last admin refuses one every day). Here the table objects are kept (no copies), each
item the transaction touches is noted as it was, and on failure those items are put back
and the stream records the transaction wrote dropped. Same all-or-nothing result,
conditions and cancellation reasons; the cost is that of the items touched. moto's items
and indexes live only in `table.items` (indexes are computed when queried), and updates
change items in place, hence the copies of the touched items.

Kind: correctness (the stream after a cancelled transaction; the speed comes with it).
"""

import copy

from . import pin
from .query_candidates import mark_touched

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.dynamodb.models", "DynamoDBBackend.transact_write_items"),
    ("moto.dynamodb.models.table", "Table.get_item"),
    ("moto.dynamodb.models.table", "StreamShard.add"),
    ("moto.dynamodb.models.dynamo_type", "DynamoType"),
]


def apply():
    pin.require(__name__)
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
