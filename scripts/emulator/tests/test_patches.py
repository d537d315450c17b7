"""The emulator's own tests (`make test` runs them: `make emulator-test`): the patch
registry, the moto pin's checks, switching speed patches off, and an emulator with every
speed patch off answering as one with all of them on."""

import json
import os
import subprocess
import sys
import types
import unittest

import moto

from emulator import patches
from emulator.patches import pin

SCRIPTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Registry(unittest.TestCase):
    def test_every_patch_says_what_it_is_and_fits_the_installed_moto(self):
        for name, kind in patches.REGISTRY:
            with self.subTest(patch=name):
                module = patches.modules([name])[0]
                self.assertIn(f"Kind: {kind}", module.__doc__)
                self.assertTrue(module.REPLACES, "names the moto symbols it replaces")
                self.assertEqual(pin.problems(module), [])

    def test_a_wrong_moto_version_names_every_patch_and_changes_nothing(self):
        from moto.dynamodb.models import DynamoDBBackend

        before = DynamoDBBackend.__dict__["transact_write_items"]
        installed = moto.__version__
        moto.__version__ = "0.0.1"
        try:
            with self.assertRaises(pin.MotoMismatch) as caught:
                patches.apply([name for name, _ in patches.REGISTRY])
        finally:
            moto.__version__ = installed
        message = str(caught.exception)
        for name, _ in patches.REGISTRY:
            self.assertIn(f"{name}: written against moto {installed}, moto 0.0.1 is installed", message)
        self.assertIn("Re-read each of these patches", message)
        self.assertIs(DynamoDBBackend.__dict__["transact_write_items"], before, "nothing applied")

    def test_a_symbol_gone_from_moto_is_named(self):
        fake = types.ModuleType("emulator.patches.fake")
        fake.MOTO_VERSION = moto.__version__
        fake.REPLACES = [("moto.dynamodb.models", "DynamoDBBackend.no_such_method"),
                         ("moto.no_such_module", "Thing")]
        with self.assertRaises(pin.MotoMismatch) as caught:
            pin.require_all([fake])
        message = str(caught.exception)
        self.assertIn("fake: moto.dynamodb.models.DynamoDBBackend.no_such_method is gone", message)
        self.assertIn("fake: moto.no_such_module.Thing is gone", message)


class Selection(unittest.TestCase):
    def test_all_by_default_and_only_correctness_when_not_fast(self):
        everything = [name for name, _ in patches.REGISTRY]
        correctness = [name for name, kind in patches.REGISTRY if kind == "correctness"]
        self.assertEqual(patches.selected({}), everything)
        self.assertEqual(patches.selected({"KABINET_EMULATOR_FAST": "0"}), correctness)
        self.assertEqual(patches.selected({"KABINET_EMULATOR_FAST": "0", "KABINET_EMULATOR_PATCHES": "+json_answers"}),
                         [n for n in everything if n in correctness or n == "json_answers"])

    def test_speed_patches_switch_off_one_by_one(self):
        chosen = patches.selected({"KABINET_EMULATOR_PATCHES": "-query_candidates, -plain_updates"})
        self.assertNotIn("query_candidates", chosen)
        self.assertNotIn("plain_updates", chosen)
        self.assertIn("json_answers", chosen)

    def test_what_cannot_be_is_refused(self):
        for env in ({"KABINET_EMULATOR_PATCHES": "-undo_log"}, {"KABINET_EMULATOR_PATCHES": "-no_such"},
                    {"KABINET_EMULATOR_FAST": "yes"}):
            with self.subTest(env=env), self.assertRaises(patches.Refused):
                patches.selected(env)


class Emulator:
    """An emulator in a child process, with the given environment."""

    def __init__(self, **env):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(SCRIPTS, "emulator"), "--port", "0", "--parent-pid", str(os.getpid())],
            stdout=subprocess.PIPE, text=True, env=dict(os.environ, **env))
        port = None
        for line in self.process.stdout:
            if line.startswith("READY "):
                port = line.split()[1]
                break
        if port is None:
            self.process.wait()
            raise RuntimeError(f"the emulator did not start ({env}): exit {self.process.returncode}")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.db = self.client("dynamodb")

    def client(self, service, **config):
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test", config=Config(**config))

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()


def session(db):
    """A query, a page, an index query, updates (plain, counters, upsert, refused) and a
    cancelled transaction: every answer, without the request's metadata."""
    out = []

    def call(method, **kwargs):
        try:
            answer = getattr(db, method)(**kwargs)
            answer.pop("ResponseMetadata", None)
            answer.get("TableDescription", {}).pop("CreationDateTime", None)
            out.append((method, answer))
        except db.exceptions.ClientError as e:
            out.append((method, e.response["Error"]["Code"]))

    s, n = (lambda v: {"S": v}), (lambda v: {"N": v})
    db.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gpk")],
        GlobalSecondaryIndexes=[{"IndexName": "gsi1", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    for i, sk in enumerate(["A#1", "B#1", "B#2", "B#3", "C#1"]):
        db.put_item(TableName="t", Item={"pk": s("ORG#1"), "sk": s(sk), "gpk": s(f"G#{i % 2}"), "n": n(str(i))})
    call("query", TableName="t", KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
         ExpressionAttributeValues={":p": s("ORG#1"), ":b": s("B#")}, Limit=2)
    call("query", TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": s("ORG#1")},
         ScanIndexForward=False)
    call("query", TableName="t", IndexName="gsi1", KeyConditionExpression="gpk = :g",
         ExpressionAttributeValues={":g": s("G#0")})
    key = {"pk": s("ORG#1"), "sk": s("B#1")}
    call("update_item", TableName="t", Key=key, ReturnValues="ALL_NEW",
         UpdateExpression="SET n = n + :d, #l = :l REMOVE gpk", ExpressionAttributeNames={"#l": "label"},
         ExpressionAttributeValues={":d": n("5"), ":l": s("x")})
    call("update_item", TableName="t", Key={"pk": s("ORG#2"), "sk": s("COUNTER")}, ReturnValues="ALL_NEW",
         UpdateExpression="SET uses = if_not_exists(uses, :zero) + :one", ConditionExpression="attribute_not_exists(stop)",
         ExpressionAttributeValues={":zero": n("0"), ":one": n("1")})
    call("update_item", TableName="t", Key=key, UpdateExpression="SET label = label + :d",
         ExpressionAttributeValues={":d": n("1")})
    call("update_item", TableName="t", Key=key, UpdateExpression="SET n = :v", ConditionExpression="n < :v",
         ExpressionAttributeValues={":v": n("1")})
    call("transact_write_items", TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": s("ORG#3"), "sk": s("X")}}},
        {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": "attribute_not_exists(pk)"}}])
    call("query", TableName="t", IndexName="gsi1", KeyConditionExpression="gpk = :g",
         ExpressionAttributeValues={":g": s("G#1")})
    call("scan", TableName="t")
    return out


class SpeedPatchesOff(unittest.TestCase):
    def test_an_emulator_without_speed_patches_answers_the_same(self):
        fast = Emulator(KABINET_EMULATOR_VERIFY="1")
        try:
            expected = session(fast.db)
        finally:
            fast.stop()
        slow = Emulator(KABINET_EMULATOR_FAST="0")
        try:
            got = session(slow.db)
        finally:
            slow.stop()
        self.assertEqual(len(got), 10)
        for (method, theirs), (_, ours) in zip(got, expected):
            with self.subTest(method=method):
                self.assertEqual(theirs, ours)
        self.assertIn("ConditionalCheckFailedException", [a for _, a in got])


class MailSimulator(unittest.TestCase):
    def test_the_simulators_addresses_bounce_or_complain_with_the_messages_tags(self):
        from emulator.patches import mail_events

        self.assertEqual(mail_events.outcome("bounce@simulator.amazonses.com"), "Bounce")
        self.assertEqual(mail_events.outcome("Bounce+a1@Simulator.AmazonSES.com"), "Bounce")
        self.assertEqual(mail_events.outcome("complaint+x@simulator.amazonses.com"), "Complaint")
        self.assertIsNone(mail_events.outcome("success@simulator.amazonses.com"))
        self.assertIsNone(mail_events.outcome("bounce@school.ru"))
        start = mail_events.after(0)["last"]
        body = json.dumps({
            "FromEmailAddress": "no-reply@kabinet.test", "ConfigurationSetName": "kabinet-mail",
            "Destination": {"ToAddresses": ["bounce+t1@simulator.amazonses.com", "anna@school.ru"]},
            "EmailTags": [{"Name": "event_id", "Value": "01M8"}, {"Name": "kind", "Value": "invitation"}],
        })
        mail_events.record(body, json.dumps({"MessageId": "m-1"}))
        got = mail_events.after(start)
        self.assertEqual(len(got["events"]), 1, "only the simulator's address")
        e = got["events"][0]["event"]
        self.assertEqual((e["source"], e["detail-type"]), ("aws.ses", "Email Bounced"))
        detail = e["detail"]
        self.assertEqual(detail["bounce"]["bounceType"], "Permanent")
        self.assertEqual(detail["bounce"]["bouncedRecipients"][0]["emailAddress"], "bounce+t1@simulator.amazonses.com")
        self.assertEqual(detail["mail"]["messageId"], "m-1")
        self.assertEqual(detail["mail"]["tags"], {"event_id": ["01M8"], "kind": ["invitation"],
                                                  "ses:configuration-set": ["kabinet-mail"]})
        self.assertEqual(mail_events.after(got["last"])["events"], [])


if __name__ == "__main__":
    unittest.main()
