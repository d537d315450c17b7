"""kabinet's local AWS emulator: moto's WSGI app (DynamoDB with streams, S3, SES v2,
Secrets Manager) on loopback, one request at a time.

Stock `moto_server` is threaded and its conditional writes are not atomic under concurrent
requests, so DynamoDB conditions (use limits, the last admin) would not hold locally. This
launcher keeps a threaded HTTP server (slow clients do not block each other's sockets) but
runs moto itself under one lock, which makes every request atomic.

Usage: python scripts/emulator [--host 127.0.0.1] [--port 0] [--parent-pid PID]
                               [--state FILE --schema S]
(or `python -m emulator ...` from scripts/). Prints `READY <port>` on stdout once it
accepts connections. With --parent-pid it exits when that process is gone, so a test run
never leaves an emulator behind. With --state it loads FILE if it exists (`STATE LOADED
FILE`, or `STATE REFUSED <why>` and exit 3 when FILE was saved by another moto, Python or
schema) and saves it on POST /_kabinet/state.

The package:
- `patches/`: one module per change to moto, each asserting the moto version and the
  symbols it replaces (`patches/pin.py`); `patches/__init__.py` lists them, with their
  kind (correctness or speed) and how the speed ones are switched off;
- `server.py`: the serializing WSGI app, request buffering, the presigned PUT check;
- `admin.py`: the emulator's own endpoints (/_kabinet/...): mail, stats, faults, TTL expiry;
- `faults.py`: faults answered instead of moto (KABINET_EMULATOR_FAULTS, /_kabinet/faults);
- `state.py`: the state file (save, load, refuse);
- `__main__.py`: the command line.
"""
