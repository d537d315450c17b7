"""SES's mailbox simulator: a send to bounce@simulator.amazonses.com (or bounce+<label>@...)
is accepted, then bounces for good; one to complaint@... (or complaint+<label>@...) is
accepted, then complained of.

moto: accepts every send and publishes no event: neither configuration sets' event
destinations nor the simulator's addresses exist in it.

kabinet: sends every email with a configuration set whose bounces and complaints reach
its `mail-events` function through EventBridge (R8.4). Here each such send adds the event
SES would publish, as EventBridge delivers it (`detail-type` `Email Bounced` or `Email
Complaint Received`, `detail` in SES's event-publishing format, with the message's ID,
destinations and tags), to a log read by GET /_kabinet/mail-events?after=<seq>; the local
run feeds them to the same handler code (functions/local/src/streams.rs). The last 5,000
are kept.

Kind: correctness (without it the whole path of a bounce could not run locally).
"""

import datetime
import json
import threading
import uuid

from . import pin

MOTO_VERSION = "5.2.5"
REPLACES = [("moto.sesv2.responses", "SESV2Response.send_email")]

SIMULATOR = "simulator.amazonses.com"
KEPT = 5000

# (seq, event), oldest first; the seq of the next one.
EVENTS = []
_NEXT = [1]
_LOCK = threading.Lock()


def outcome(address):
    """`Bounce`, `Complaint` or None: what SES's mailbox simulator does with `address`."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != SIMULATOR:
        return None
    box = local.split("+", 1)[0]
    return {"bounce": "Bounce", "complaint": "Complaint"}.get(box)


def event(kind, address, message_id, source, destinations, tags, configuration_set, now=None):
    """The event SES publishes for `address` of message `message_id`, in EventBridge's envelope."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    all_tags = {t["Name"]: [t["Value"]] for t in tags}
    if configuration_set:
        all_tags["ses:configuration-set"] = [configuration_set]
    detail = {
        "eventType": kind,
        "mail": {"timestamp": stamp, "source": source, "sendingAccountId": "123456789012",
                 "messageId": message_id, "destination": destinations, "headersTruncated": False,
                 "tags": all_tags},
    }
    if kind == "Bounce":
        detail["bounce"] = {"feedbackId": str(uuid.uuid4()), "bounceType": "Permanent", "bounceSubType": "General",
                            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1",
                                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                            "timestamp": stamp, "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com"}
        detail_type = "Email Bounced"
    else:
        detail["complaint"] = {"feedbackId": str(uuid.uuid4()), "complainedRecipients": [{"emailAddress": address}],
                               "timestamp": stamp, "complaintFeedbackType": "abuse"}
        detail_type = "Email Complaint Received"
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "aws.ses",
            "account": "123456789012", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-central-1",
            "resources": [], "detail": detail}


def record(request_body, answer):
    """Adds the events of one SendEmail (its request's JSON and moto's answer) to the log."""
    params = json.loads(request_body or "{}")
    destination = params.get("Destination") or {}
    destinations = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(key, [])]
    message_id = json.loads(answer).get("MessageId", "")
    for address in destinations:
        kind = outcome(address)
        if kind is None:
            continue
        one = event(kind, address, message_id, params.get("FromEmailAddress", ""), destinations,
                    params.get("EmailTags") or [], params.get("ConfigurationSetName"))
        with _LOCK:
            EVENTS.append((_NEXT[0], one))
            _NEXT[0] += 1
            if len(EVENTS) > KEPT:
                del EVENTS[: len(EVENTS) - KEPT]


def after(seq):
    """The events after `seq` (0: all kept), and the seq to ask after next."""
    with _LOCK:
        return {"events": [{"seq": s, "event": e} for s, e in EVENTS if s > seq], "last": _NEXT[0] - 1}


def apply():
    pin.require(__name__)
    from moto.sesv2.responses import SESV2Response

    send = SESV2Response.send_email

    def send_email(self):
        answer = send(self)
        record(self.body, answer)
        return answer

    SESV2Response.send_email = send_email
