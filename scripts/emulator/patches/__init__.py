"""The patches over moto: the registry, in the order they are applied (each wraps what
the ones before it left), with each one's kind.

- `correctness`: kabinet (or a long dev session) needs what it does: always applied.
- `speed`: moto's own way gives the same answers, only slower. Switched off by
  `KABINET_EMULATOR_FAST=0` (every speed patch) or one by one with
  `KABINET_EMULATOR_PATCHES=-query_candidates,-plain_updates` (a comma-separated list;
  `-name` off, `+name` or `name` on, read after KABINET_EMULATOR_FAST). A correctness
  patch cannot be switched off; an unknown name is refused.

With `KABINET_EMULATOR_VERIFY=1` (the test suite) every speed patch that answers in moto's
stead also answers moto's own way, and a difference fails the request.

Each patch module has a docstring (what moto does, why kabinet needs otherwise, and its
kind), `MOTO_VERSION` (the moto it was written against), `REPLACES` (the moto symbols it
replaces or relies on) and `apply()`, which first checks both (`pin.require`).
"""

import importlib
import os

from . import pin

VERIFY = os.environ.get("KABINET_EMULATOR_VERIFY") == "1"

REGISTRY = [
    ("undo_log", "correctness"),
    ("stream_trim", "correctness"),
    ("plain_updates", "speed"),
    ("query_candidates", "speed"),
    ("module_list_once", "speed"),
    ("json_answers", "speed"),
    ("recent_mail", "correctness"),
    ("mail_events", "correctness"),
    ("update_parse_once", "speed"),
]
KINDS = dict(REGISTRY)


class Refused(ValueError):
    """KABINET_EMULATOR_FAST or KABINET_EMULATOR_PATCHES asks for what cannot be."""


def selected(environ=None):
    """The names of the patches to apply, in their order, from the environment."""
    environ = os.environ if environ is None else environ
    fast = environ.get("KABINET_EMULATOR_FAST", "1")
    if fast not in ("0", "1"):
        raise Refused(f"KABINET_EMULATOR_FAST is {fast!r}: 1 (the default) or 0 (every speed patch off)")
    on = {name for name, kind in REGISTRY if kind == "correctness" or fast == "1"}
    for word in (w.strip() for w in environ.get("KABINET_EMULATOR_PATCHES", "").split(",")):
        if not word:
            continue
        sign, name = (word[0], word[1:]) if word[0] in "+-" else ("+", word)
        if name not in KINDS:
            raise Refused(f"KABINET_EMULATOR_PATCHES: no patch {name!r}; the patches: "
                          + ", ".join(f"{n} ({k})" for n, k in REGISTRY))
        if sign == "-" and KINDS[name] == "correctness":
            raise Refused(f"KABINET_EMULATOR_PATCHES: {name} is needed for correctness and cannot be switched off")
        (on.add if sign == "+" else on.discard)(name)
    return [name for name, _ in REGISTRY if name in on]


def modules(names):
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def apply(names):
    """Checks every named patch against the installed moto (one error naming all that do
    not fit), then applies them in the registry's order."""
    chosen = modules(names)
    pin.require_all(chosen)
    for patch in chosen:
        patch.apply()
