"""The emulator's state file (KABINET_DEV_STATE): every kept moto backend, saved and
loaded whole; a file from another state format, moto, Python or table schema is refused
before anything changes.

Format (1): one JSON header line {"kabinet_state", "moto", "python", "schema"}, then a
pickle of {"<module>.<backends>": dict of moto's backends}. Stream iterators are not kept
(the stream runner asks for new ones and reads what is left on the stream).
"""

import importlib
import json
import os
import pickle
import sys

STATE_BACKENDS = [
    ("moto.dynamodb.models", "dynamodb_backends"),
    ("moto.s3.models", "s3_backends"),
    ("moto.ses.models", "ses_backends"),
    ("moto.sesv2.models", "sesv2_backends"),
    ("moto.secretsmanager.models", "secretsmanager_backends"),
]
STATE_FORMAT = 1


class StateRefused(Exception):
    pass


def state_header(schema):
    import moto

    return {"kabinet_state": STATE_FORMAT, "moto": moto.__version__,
            "python": "%d.%d" % sys.version_info[:2], "schema": schema}


def save_state(path, schema):
    """Writes every kept backend to `path` (a JSON header line, then a pickle), through a
    temporary file renamed in place: a crash mid-save leaves the previous state whole."""
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
