"""The emulator's command line: `python scripts/emulator [options]` (or
`python -m emulator` from scripts/). See the package's docstring (__init__.py)."""

import argparse
import os
import signal
import sys
import threading
import time

if not __package__:
    # Run as `python scripts/emulator`: the package is found beside this directory.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emulator import __doc__ as DOC  # noqa: E402
from emulator import patches  # noqa: E402
from emulator.patches.pin import MotoMismatch  # noqa: E402


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def apply_patches():
    """Applies the patches the environment selects; exits 2 with the reason when it
    selects what cannot be, or when moto is not the one they were written against."""
    try:
        names = patches.selected()
        patches.apply(names)
    except (patches.Refused, MotoMismatch) as e:
        print(e if isinstance(e, MotoMismatch) else f"kabinet emulator: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
    off = [name for name, _ in patches.REGISTRY if name not in names]
    if off:
        print(f"kabinet emulator: speed patches off: {', '.join(off)}", file=sys.stderr, flush=True)


def configure_faults():
    """The faults KABINET_EMULATOR_FAULTS asks for (none when unset); exits 2 saying why
    when it cannot be."""
    from emulator import faults

    document = os.environ.get("KABINET_EMULATOR_FAULTS", "").strip()
    if not document:
        return
    try:
        faults.ACTIVE.configure(document)
    except faults.Refused as e:
        print(f"kabinet emulator: KABINET_EMULATOR_FAULTS: {e}", file=sys.stderr, flush=True)
        sys.exit(2)


def main():
    parser = argparse.ArgumentParser(description=DOC.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--state", default=None, help="a state file: loaded now if it exists, saved by POST /_kabinet/state")
    parser.add_argument("--schema", default="", help="what the state must have been saved for (kabinet's table schema)")
    args = parser.parse_args()
    if args.parent_pid:
        # The parent decides when this process ends (it saves the state first): a Ctrl-C
        # meant for the terminal's foreground group must not stop it mid-save.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from emulator.server import QuietHandler, SerializedApp
    from emulator.state import StateRefused, load_state

    apply_patches()
    configure_faults()
    if args.state and os.path.exists(args.state):
        try:
            load_state(args.state, args.schema)
        except StateRefused as e:
            print(f"STATE REFUSED {e}", flush=True)
            sys.exit(3)
        print(f"STATE LOADED {args.state}", flush=True)
    app = SerializedApp(DomainDispatcherApplication(create_backend_app), args.state, args.schema)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
