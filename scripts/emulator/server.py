"""The serializing WSGI app around moto: one request inside moto at a time (every
DynamoDB condition atomic), each request's body read whole before it goes in, presigned
PUTs checked as S3 checks them, the configured faults answered instead of moto
(`faults.py`), and a failure inside moto answered as AWS's InternalFailure with one log
line.
"""

import hashlib
import hmac
import json
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qsl, quote

from werkzeug.serving import WSGIRequestHandler

from . import admin, faults


class SerializedApp:
    """Runs the wrapped WSGI app, body iteration included, under one lock; the emulator's
    own endpoints (/_kabinet/...) are `admin`'s. `state` and `schema`: the state file
    (None: none) and the schema it must have been saved for."""

    def __init__(self, app, state=None, schema=None):
        self.app = app
        self.lock = threading.Lock()
        self.state, self.schema = state, schema

    def __call__(self, environ, start_response):
        own = admin.serve(self, environ, start_response)
        if own is not None:
            return own
        refused = presigned_put_refused(environ)
        if refused is not None:
            buffer_body(environ)  # read, so the connection stays usable
            return refuse_signature(start_response, refused)
        buffer_body(environ)
        # A fault is answered instead of moto: nothing of the request happens. Latency is
        # waited outside the lock, as AWS's own is.
        latency, fault = faults.ACTIVE.decide(environ)
        if latency:
            time.sleep(latency / 1000)
        if fault is not None:
            return fault(start_response)
        with self.lock:
            started = time.perf_counter()
            try:
                result = self.app(environ, start_response)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception as e:
                return failed_inside_moto(environ, start_response, e)
            finally:
                count, seconds = admin.OPERATIONS.get(operation_of(environ), (0, 0.0))
                admin.OPERATIONS[operation_of(environ)] = (count + 1, seconds + time.perf_counter() - started)
        return [body]


FORM = "application/x-www-form-urlencoded"


def buffer_body(environ):
    """Reads the request's whole body before moto runs, outside the lock: a slow upload
    does not hold every other request, and moto reads a buffer, never the socket. (An S3
    PUT sent as a form, curl's default type for `--data-binary`, had moto wait under the
    lock for bytes already read as a form: the emulator stopped answering.) Bodies past
    8 MiB spill to a temporary file."""
    stream = environ["wsgi.input"]
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0
    chunked = environ.get("wsgi.input_terminated", False)
    while chunked or remaining > 0:
        chunk = stream.read(1 << 16 if chunked else min(1 << 16, remaining))
        if not chunk:
            break
        spool.write(chunk)
        remaining -= len(chunk)
    if chunked:
        # Now of known length, as moto expects.
        environ["CONTENT_LENGTH"] = str(spool.tell())
        environ["wsgi.input_terminated"] = False
    spool.seek(0)
    environ["wsgi.input"] = spool
    if environ.get("REQUEST_METHOD") == "PUT" and environ.get("CONTENT_TYPE", "").startswith(FORM):
        # S3 stores a PUT's bytes whatever its type; moto's server would parse them as a
        # form (and refuse a large one): it sees them as plain bytes.
        environ["CONTENT_TYPE"] = "binary/octet-stream"


# The secret of the credentials the local SDK clients sign with (functions/local's
# `sdk_config`): the emulator can check what they presign.
PRESIGN_KEYS = {"test": "test"}


def presigned_put_refused(environ):
    """moto checks no signature, so a presigned PUT that signs `content-length` (the upload
    URLs of files and imports) would store a body of any length. S3 refuses it: the
    signature covers the length the URL was made for, and a request of another length
    does not match it. Here such a PUT's query signature (SigV4) is checked against the
    request as sent; a mismatch answers S3's 403 SignatureDoesNotMatch. Other requests,
    and URLs signed with credentials the emulator does not know, go on unchecked.
    Answers the error's message, or None."""
    if environ.get("REQUEST_METHOD") != "PUT":
        return None
    raw_query = environ.get("QUERY_STRING", "")
    query = parse_qsl(raw_query, keep_blank_values=True)
    params = dict(query)
    signed = params.get("X-Amz-SignedHeaders", "").split(";")
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "content-length" not in signed:
        return None
    credential = params.get("X-Amz-Credential", "").split("/")
    secret = PRESIGN_KEYS.get(credential[0]) if len(credential) == 5 else None
    if secret is None:
        return None
    # The path as sent (already encoded once, as S3 signs it).
    uri = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")).split("?")[0]
    encode = lambda v: quote(v, safe="-_.~")  # noqa: E731
    canonical_query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(
        (k, v) for k, v in query if k != "X-Amz-Signature"))
    header = {"host": environ.get("HTTP_HOST", ""), "content-length": environ.get("CONTENT_LENGTH", ""),
              "content-type": environ.get("CONTENT_TYPE", "")}
    headers = "".join(
        f"{h}:{' '.join((header[h] if h in header else environ.get('HTTP_' + h.upper().replace('-', '_'), '')).split())}\n"
        for h in signed)
    canonical = "\n".join(["PUT", uri, canonical_query, headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    scope = "/".join(credential[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params.get("X-Amz-Date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in credential[1:]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if hmac.compare_digest(signature, params.get("X-Amz-Signature", "")):
        return None
    return ("The request signature we calculated does not match the signature you provided "
            f"(signed headers: {';'.join(signed)}, content-length {header['content-length']}).")


def refuse_signature(start_response, message):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
            f"<Message>{message}</Message></Error>").encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


REST_OPERATIONS = {("POST", "/v2/email/outbound-emails"): "SES v2 SendEmail"}
LAST_FAILURE = [None, 0.0]


def operation_of(environ):
    """The AWS operation a request asks for, in words for a log line."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.replace("_20120810.", " ").replace("_20120810", "")
    method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "?")
    return REST_OPERATIONS.get((method, path), f"{method} {path}")


def failed_inside_moto(environ, start_response, error):
    """A request moto itself failed on (a gap or a bug in the emulator, not a refusal of
    AWS's): one log line with the operation, and a 500 InternalFailure, which the SDK
    retries and then reports, instead of a traceback from the HTTP server per retry."""
    line = (f"kabinet emulator: {operation_of(environ)} failed inside moto: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    # The SDK retries a 500: its retries of the same failure are not logged again.
    now = time.monotonic()
    if line != LAST_FAILURE[0] or now - LAST_FAILURE[1] > 10:
        print(line, file=sys.stderr, flush=True)
    LAST_FAILURE[:] = [line, now]
    body = json.dumps({"__type": "InternalFailure", "message": "the emulator failed on this request"}).encode()
    start_response("500 Internal Server Error", [("Content-Type", "application/x-amz-json-1.0"),
                                                 ("x-amzn-ErrorType", "InternalFailure"),
                                                 ("Content-Length", str(len(body)))], sys.exc_info())
    return [body]


class QuietHandler(WSGIRequestHandler):
    # The server writes a response's headers and body apart: with Nagle's algorithm the
    # body then waited for the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True

    def log_request(self, *args, **kwargs):
        pass
