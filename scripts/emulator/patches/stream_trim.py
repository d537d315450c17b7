"""Stream records every reader has consumed, and stale shard iterators, are dropped.

moto: keeps every stream record and every shard iterator it ever handed out (the local
stream runner asks for a new one five times a second per table), so memory grew with every
write and every poll.

kabinet: a `make dev` session, a benchmark or the test suite writes for hours. DynamoDB
keeps records 24 hours and iterators 15 minutes. Here a shard drops the records below the
lowest position of its live, not yet used iterators (what every reader has consumed), and
iterators are forgotten 15 minutes after they were made, or a minute after they were used
(a reader moves on with the next one).

Kind: correctness (bounded memory, as DynamoDB's retention bounds it; a test asserts it).
"""

import time

from . import pin

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.dynamodb.models.table", "StreamShard.get"),
    ("moto.dynamodbstreams.models", "ShardIterator.__init__"),
    ("moto.dynamodbstreams.models", "DynamoDBStreamsBackend.get_records"),
]

EXPIRY, USED_GRACE = 15 * 60, 60


def apply():
    pin.require(__name__)
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

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
            if now - it.made_at > EXPIRY or (it.used_at is not None and now - it.used_at > USED_GRACE):
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
