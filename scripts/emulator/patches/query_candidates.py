"""A Query sees only its candidates, not the whole table.

moto: answers every Query by sorting every item of the table (its `all_items`) and then
filtering, for a global index and for the table alike, so every read and every write that
queries grew with the whole table.

kabinet: every route queries; a school's table holds hundreds of thousands of items. Here a
query sees only its candidates: for the table, the items of its partition within the
sort-key condition (and the one next to them on each side, which moto pages past); for a
global index, the items whose index hash key is the one asked, from a per-table map kept up
to date from the keys each write touched (marked on every write by `mark_touched`, applied
at the next query). moto still does the matching, sorting, paging and filtering, unchanged.

With KABINET_EMULATOR_VERIFY=1 each query is also answered moto's way and a difference
fails the request (the test suite runs so).

Kind: speed.
"""

import sys

from . import VERIFY, pin

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.dynamodb.models.table", "Table.query"),
    ("moto.dynamodb.models.table", "Table.all_items"),
    ("moto.dynamodb.models.table", "Table.put_item"),
    ("moto.dynamodb.models.table", "Table.delete_item"),
    ("moto.dynamodb.models.table", "GlobalSecondaryIndex"),
    ("moto.dynamodb.models", "DynamoDBBackend.update_item"),
    ("moto.dynamodb.models.dynamo_type", "DynamoType.compare"),
]


def mark_touched(table, hash_value, range_value):
    """Notes that a write changed (or may have changed) this item: the query re-reads it
    into its index map at the next query. (Nothing when this patch is off: the map is made
    at the first narrowed query.)"""
    dirty = table.__dict__.get("_kabinet_dirty")
    if dirty is not None:
        dirty.add((hash_value, range_value))


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
    """The items within the sort-key condition, and the nearest item on each side of them:
    moto pages over the whole partition, and a page that is full when one more item follows
    it (matching or not, in either direction) gets a LastEvaluatedKey."""
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


def apply():
    pin.require(__name__)
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import GlobalSecondaryIndex, Table

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
                print(f"kabinet emulator: query on {self.name} index {index_name} differs from moto's",
                      file=sys.stderr, flush=True)
                raise RuntimeError("narrowed query differs from moto's answer")
        return answer

    Table.query = query

    put, delete = Table.put_item, Table.delete_item

    def put_item(self, *args, **kwargs):
        item = put(self, *args, **kwargs)
        mark_touched(self, item.hash_key, item.range_key)
        return item

    def delete_item(self, hash_key, range_key):
        item = delete(self, hash_key, range_key)
        mark_touched(self, hash_key, range_key)
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
                mark_touched(table, DynamoType(key[table.hash_key_attr]), range_value)

    DynamoDBBackend.update_item = update_item
