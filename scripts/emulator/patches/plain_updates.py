"""Plain SET/REMOVE updates and integer counters applied directly.

moto: applies an UpdateItem by checking its expression's tree with ten walkers and
executing it on a copy: the largest cost of a write.

kabinet: the updates it makes are plain: `SET name = :value`,
`SET name = if_not_exists(name, :value)`, counters (`SET n = n + :d`,
`SET n = if_not_exists(n, :zero) - :d`, integers only) and `REMOVE name`, on top-level
non-key attributes. Those are applied directly (the condition is still moto's); any other
expression goes moto's way. An upsert writes one INSERT stream record, as DynamoDB does
(moto's own way writes a keys-only INSERT record, then the item's: with this patch off,
plain upserts stream two records, as every other upsert does).

With KABINET_EMULATOR_VERIFY=1 each is also applied moto's way to a copy and a difference
fails the request.

Kind: speed.
"""

import copy
import json
import re
import sys

from . import VERIFY, pin
from .query_candidates import mark_touched

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.dynamodb.models", "DynamoDBBackend.update_item"),
    ("moto.dynamodb.comparisons", "create_condition_expression_parser"),
    ("moto.dynamodb.exceptions", "ConditionalCheckFailed"),
    ("moto.dynamodb.models.dynamo_type", "Item"),
    ("moto.dynamodb.models.table", "StreamShard.add"),
    ("moto.dynamodb.parsing.executors", "UpdateExpressionExecutor.execute"),
    ("moto.dynamodb.parsing.expressions", "UpdateExpressionParser.make"),
    ("moto.dynamodb.parsing.validators", "UpdateExpressionValidator.validate"),
]

NAME = r"#?[A-Za-z_][A-Za-z0-9_]*"
TOKEN = r":[A-Za-z0-9_]+"
# x = :v | x = if_not_exists(x, :v) | x = x ± :v | x = if_not_exists(x, :v) ± :w
SET_VALUE = re.compile(rf"^({NAME})\s*=\s*({TOKEN})$")
SET_IF_MISSING = re.compile(rf"^({NAME})\s*=\s*if_not_exists\(\s*({NAME})\s*,\s*({TOKEN})\s*\)$")
SET_SUM = re.compile(rf"^({NAME})\s*=\s*(?:({NAME})|if_not_exists\(\s*({NAME})\s*,\s*({TOKEN})\s*\))"
                     rf"\s*([+-])\s*({TOKEN})$")
PLAIN_NAME = re.compile(rf"^{NAME}$")


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
        if c := SET_VALUE.match(clause):
            target, used, how = c.group(1), c.group(2), "value"
        elif c := SET_IF_MISSING.match(clause):
            target, same, used, how = c.group(1), c.group(2), c.group(3), "if_missing"
            if same != target:
                return None
        elif c := SET_SUM.match(clause):
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
        if not PLAIN_NAME.match(removed.strip()):
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


def apply():
    pin.require(__name__)
    from moto.dynamodb.comparisons import create_condition_expression_parser
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

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
