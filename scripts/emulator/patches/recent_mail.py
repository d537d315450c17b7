"""Only the last 5,000 messages SES accepted are kept.

moto: keeps every message SES accepted, whole, for ever: memory grew with every email.

kabinet: sends mail on every invitation and import; the local mail page
(GET /_kabinet/mail) needs the recent ones. The last 5,000 are kept.

Kind: correctness (bounded memory over a long session; no answer depends on older mail).
"""

from . import pin

MOTO_VERSION = "5.2.5"
REPLACES = [
    ("moto.ses.models", "SESBackend.send_email"),
    ("moto.ses.models", "SESBackend.send_raw_email"),
]

KEPT_MAIL = 5000
SENDERS = ("send_email", "send_templated_email", "send_bulk_templated_email", "send_raw_email")


def apply():
    pin.require(__name__)
    from moto.ses.models import SESBackend

    def trimmed(send):
        def wrapper(self, *args, **kwargs):
            result = send(self, *args, **kwargs)
            if len(self.sent_messages) > KEPT_MAIL:
                del self.sent_messages[: len(self.sent_messages) - KEPT_MAIL]
            return result

        return wrapper

    for name in SENDERS:
        if hasattr(SESBackend, name):
            setattr(SESBackend, name, trimmed(getattr(SESBackend, name)))
