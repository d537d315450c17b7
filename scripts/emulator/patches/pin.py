"""What every patch asserts before it changes moto: that the installed moto is the version
the patch was written against (its `MOTO_VERSION`) and that every private symbol it
replaces or reads still exists (its `REPLACES`: (module, attribute path) pairs).

A moto upgrade then fails at start, naming every patch to re-read, instead of a patch
silently wrapping something that changed meaning.
"""

import importlib
import sys


class MotoMismatch(RuntimeError):
    """The installed moto is not the one a patch was written against."""


def short(patch):
    return patch.__name__.rsplit(".", 1)[-1]


def problems(patch):
    """What in the installed moto differs from what `patch` (a patch module) was written
    against: one line per difference, naming the patch and the symbol."""
    import moto

    found = []
    if moto.__version__ != patch.MOTO_VERSION:
        found.append(f"{short(patch)}: written against moto {patch.MOTO_VERSION}, "
                     f"moto {moto.__version__} is installed")
    for module, path in patch.REPLACES:
        try:
            target = importlib.import_module(module)
        except ImportError:
            found.append(f"{short(patch)}: {module}.{path} is gone (no module {module})")
            continue
        for part in path.split("."):
            if not hasattr(target, part):
                found.append(f"{short(patch)}: {module}.{path} is gone (no {part})")
                break
            target = getattr(target, part)
    return found


def message(found):
    names = sorted({line.split(":", 1)[0] for line in found})
    return ("kabinet emulator: moto is not the one its patches were written against.\n"
            + "".join(f"  {line}\n" for line in found)
            + f"Re-read each of these patches (scripts/emulator/patches/<name>.py) against the installed "
              f"moto: {', '.join(names)}; run the tests with KABINET_EMULATOR_VERIFY=1, then set "
              f"its MOTO_VERSION (docs/emulator.md, \"Upgrading moto\").")


def require_all(patches):
    """Raises MotoMismatch naming every patch of `patches` that does not fit the installed
    moto, and why."""
    found = [line for patch in patches for line in problems(patch)]
    if found:
        raise MotoMismatch(message(found))


def require(name):
    """A patch's first step in `apply()`: `pin.require(__name__)`."""
    require_all([sys.modules[name]])
