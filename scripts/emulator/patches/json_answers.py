"""DynamoDB's data answers written with json.dumps.

moto 5.2: writes every answer through a generic, model-driven serializer that walks each
attribute of each item against the service model: the largest cost of a DynamoDB read or
stream poll.

kabinet: reads and stream polls are most of its requests. DynamoDB's JSON protocol is the
answer as it is (attribute values are already in their wire form), so its data operations'
answers are written with json.dumps; anything that is not plain JSON (a binary attribute's
bytes) goes moto's way. Timestamps (stream records) are epoch seconds with milliseconds, as
moto writes them.

With KABINET_EMULATOR_VERIFY=1 each answer is also made moto's way and a difference fails
the request.

Kind: speed.
"""

import calendar
import datetime
import functools
import json
import sys

from . import VERIFY, pin

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.core.responses", "BaseResponse.serialized"),
    ("moto.core.responses", "BaseResponse._get_action"),
    ("moto.dynamodb.responses", "DynamoHandler"),
    ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
]

# The operations whose answers are plain JSON (the others are few and small).
PLAIN = {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem",
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


def apply():
    pin.require(__name__)
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original = BaseResponse.serialized

    @functools.wraps(original)
    def serialized(self, action_result):
        result = action_result.result
        if (isinstance(self, (DynamoHandler, DynamoDBStreamsHandler)) and isinstance(result, dict)
                and self._get_action() in PLAIN):
            try:
                body = json.dumps(without_nulls(result), default=default, separators=(",", ":"))
            except (TypeError, ValueError):
                return original(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            if VERIFY:
                status, _, theirs = original(self, action_result)
                if status != 200 or json.loads(theirs) != json.loads(body):
                    print(f"kabinet emulator: {self._get_action()} answer differs from moto's: "
                          f"{body[:300]} / {theirs[:300]}", file=sys.stderr, flush=True)
                    raise RuntimeError("plain JSON answer differs from moto's")
            return 200, headers, body
        return original(self, action_result)

    BaseResponse.serialized = serialized
