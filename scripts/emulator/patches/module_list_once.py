"""moto's list of its own service modules, read once.

moto: lists its package directory on every request, to route it to a service.

kabinet: nothing to add; the directory does not change while the emulator runs. The list
is read once at start (with KABINET_EMULATOR_VERIFY=1, checked against moto's own listing
then).

Kind: speed.
"""

from . import VERIFY, pin

MOTO_VERSION = "5.2.5"
REPLACES = [("moto.backends", "list_of_moto_modules")]


def apply():
    pin.require(__name__)
    from moto import backends

    listed = backends.list_of_moto_modules
    modules = frozenset(listed())
    if VERIFY and sorted(modules) != sorted(listed()):
        raise RuntimeError("moto's module list differs between two listings")
    backends.list_of_moto_modules = lambda: modules
