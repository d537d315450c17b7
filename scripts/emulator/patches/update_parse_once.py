"""One parsed tree per distinct UpdateExpression text.

moto: parses an UpdateItem's expression twice a request (to check it, then to apply it),
from its text each time.

kabinet: writes a few dozen distinct expressions, thousands of times. The parsed tree is
only read (the validator that resolves names and values works on a deep copy of it), so one
tree per distinct expression text is kept (at most 1,024).

Kind: speed. (No VERIFY comparison: the tree is moto's own, parsed by moto's parser.)
"""

import functools

from . import pin

MOTO_VERSION = "5.2.5"
REPLACES = [("moto.dynamodb.parsing.expressions", "UpdateExpressionParser.make")]


def apply():
    pin.require(__name__)
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__
    cached = functools.lru_cache(maxsize=1024)(lambda expression: make(UpdateExpressionParser, expression))
    UpdateExpressionParser.make = classmethod(lambda cls, expression: cached(expression))
