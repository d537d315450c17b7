"""Faults answered instead of moto (`faults.py`): the configuration's checks, repeatable
draws, scoping by `match`, and an emulator answering each fault as the service does (as
the SDKs see it), with nothing of the request done and the faults counted."""

import io
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

from emulator import faults
from emulator.tests.test_patches import SCRIPTS, Emulator


def environ(target=None, body=b"", method="POST", path="/", query="", **headers):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO(body)}
    if target:
        env["HTTP_X_AMZ_TARGET"] = target
        env["HTTP_AUTHORIZATION"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, X"
    env.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    return env


def put_item(body=b"{}"):
    return environ("DynamoDB_20120810.PutItem", body)


class Configuration(unittest.TestCase):
    def test_the_compact_form_reads(self):
        document, seed, rules = faults.parse(json.dumps({
            "dynamodb:*:throttle": 0.1, "sesv2:SendEmail:too_many": 0.05, "s3:*:slowdown": 0.1,
            "*:*:latency_ms": 20, "dynamodb:TransactWriteItems:conflict": [{"rate": 1, "match": "ORG1"}, 0.5],
            "seed": 42}))
        self.assertEqual(seed, 42)
        self.assertEqual([(r.service, r.operation, r.kind, r.rate, r.ms) for r in rules], [
            ("dynamodb", "*", "throttle", 0.1, 0.0), ("sesv2", "SendEmail", "too_many", 0.05, 0.0),
            ("s3", "*", "slowdown", 0.1, 0.0), ("*", "*", "latency_ms", 1.0, 20.0),
            ("dynamodb", "TransactWriteItems", "conflict", 1.0, 0.0),
            ("dynamodb", "TransactWriteItems", "conflict", 0.5, 0.0)])
        self.assertEqual(rules[4].match, b"ORG1")
        self.assertEqual(document["seed"], 42)

    def test_what_cannot_be_is_refused_saying_why(self):
        for document, why in [
            ("[1]", "JSON object"), ("{", "not JSON"), ({"dynamodb:throttle": 1}, "service:operation:kind"),
            ({"sqs:*:throttle": 1}, "no service 'sqs'"), ({"dynamodb:*:slowdown": 1}, "has no fault 'slowdown'"),
            ({"*:*:throttle": 1}, "latency_ms only"), ({"dynamodb:*:throttle": 1.5}, "from 0 to 1"),
            ({"dynamodb:*:throttle": {"rate": 0.1, "every": 2}}, "unknown field"),
            ({"dynamodb:*:throttle": {"ms": 3}}, "latency_ms only"), ({"dynamodb:*:throttle": {"match": ""}}, "match"),
            ({"dynamodb:Put Item:throttle": 1}, "operation"), ({"seed": "x"}, "seed"),
            ({"*:*:latency_ms": -1}, "milliseconds")]:
            with self.subTest(document=document), self.assertRaises(faults.Refused) as caught:
                faults.parse(document if isinstance(document, str) else json.dumps(document))
            self.assertIn(why, str(caught.exception))

    def test_a_refused_configuration_changes_nothing(self):
        f = faults.Faults(log=None)
        f.configure({"dynamodb:*:throttle": 1})
        with self.assertRaises(faults.Refused):
            f.configure({"dynamodb:*:throttle": 2})
        self.assertEqual(f.config(), {"dynamodb:*:throttle": 1})
        self.assertIsNotNone(f.decide(put_item())[1])


class Draws(unittest.TestCase):
    def draws(self, seed, n=200):
        f = faults.Faults(log=None)
        f.configure({"dynamodb:*:throttle": 0.3, "seed": seed})
        return [f.decide(put_item())[1] is not None for _ in range(n)], f

    def test_a_seed_repeats_the_same_faults_at_about_the_rate(self):
        first, f = self.draws(42)
        again, _ = self.draws(42)
        other, _ = self.draws(7)
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)
        self.assertTrue(40 <= sum(first) <= 80, sum(first))
        self.assertEqual(f.stats(), {"dynamodb": {"PutItem": {"throttle": sum(first)}}})

    def test_rules_apply_by_service_operation_and_match(self):
        f = faults.Faults(log=None)
        f.configure({"dynamodb:GetItem:internal": 1, "dynamodb:*:throttle": {"match": "ORG#A1"},
                     "dynamodb:TransactWriteItems:conflict": 1, "s3:PutObject:slowdown": 1})
        self.assertIsNone(f.decide(put_item(b'{"Key": {"pk": {"S": "ORG#B2"}}}'))[1])
        self.assertIsNotNone(f.decide(put_item(b'{"Key": {"pk": {"S": "ORG#A1"}}}'))[1])
        self.assertIsNotNone(f.decide(environ("DynamoDB_20120810.GetItem"))[1])
        self.assertIsNone(f.decide(environ("DynamoDB_20120810.Query"))[1], "conflict: writes only")
        s3 = {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, X"}
        self.assertIsNotNone(f.decide({**environ(method="PUT", path="/b/k"), **s3})[1])
        self.assertIsNone(f.decide({**environ(method="GET", path="/b/k"), **s3})[1])
        self.assertEqual(f.stats(), {"dynamodb": {"PutItem": {"throttle": 1}, "GetItem": {"internal": 1}},
                                     "s3": {"PutObject": {"slowdown": 1}}})

    def test_latency_adds_to_a_fault_or_to_none(self):
        f = faults.Faults(log=None)
        f.configure({"*:*:latency_ms": 20, "dynamodb:*:latency_ms": {"ms": 50, "match": "slow"}})
        self.assertEqual(f.decide(put_item()), (20.0, None))
        self.assertEqual(f.decide(put_item(b"slow"))[0], 50.0)
        self.assertEqual(f.stats()["dynamodb"]["PutItem"], {"latency_ms": 2})

    def test_operations_are_named_as_aws_names_them(self):
        for env, expected in [
            (environ("DynamoDB_20120810.TransactWriteItems"), ("dynamodb", "TransactWriteItems")),
            (environ("DynamoDBStreams_20120810.GetRecords"), ("dynamodbstreams", "GetRecords")),
            (environ(path="/v2/email/outbound-emails",
                     authorization="AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/ses/aws4_request"),
             ("sesv2", "SendEmail")),
            (environ(method="HEAD", path="/files/k/1"), ("s3", "HeadObject")),
            (environ(method="PUT", path="/files/k/2", x_amz_copy_source="files/k/1"), ("s3", "CopyObject")),
            (environ(method="PUT", path="/files/k", query="X-Amz-Credential=t%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"),
             ("s3", "PutObject")),
            (environ(method="GET", path="/files", query="list-type=2"), ("s3", "ListObjectsV2"))]:
            with self.subTest(expected=expected):
                self.assertEqual((faults.service_of(env), faults.operation_of(env)), expected)


class Answers(unittest.TestCase):
    """Each fault through an emulator, as boto3 sees it (its retries off)."""

    @classmethod
    def setUpClass(cls):
        cls.emulator = Emulator(KABINET_EMULATOR_FAULTS='{"seed": 1}')
        cls.db = cls.emulator.client("dynamodb", retries={"total_max_attempts": 1})
        cls.db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def admin(self, path, body=None):
        request = urllib.request.Request(self.emulator.endpoint + path, method="GET" if body is None else "PUT",
                                         data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(request) as r:
            return json.loads(r.read())

    def setUp(self):
        self.admin("/_kabinet/faults", {})

    def code(self, call):
        try:
            call()
        except self.db.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response
        return None

    def item(self, pk):
        return self.db.get_item(TableName="t", Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")

    def test_dynamodb_faults_are_answered_as_dynamodb_does_and_write_nothing(self):
        put = lambda: self.db.put_item(TableName="t", Item={"pk": {"S": "ORG#1"}})  # noqa: E731
        for kind, code, status in [("throughput", "ProvisionedThroughputExceededException", 400),
                                   ("throttle", "ThrottlingException", 400),
                                   ("internal", "InternalServerError", 500),
                                   ("conflict", "TransactionConflictException", 400)]:
            with self.subTest(kind=kind):
                self.admin("/_kabinet/faults", {f"dynamodb:PutItem:{kind}": 1})
                self.assertEqual(self.code(put)[:2], (code, status))
        self.admin("/_kabinet/faults", {})
        self.assertIsNone(self.item("ORG#1"), "nothing written")
        counts = self.admin("/_kabinet/stats")["faults"]["dynamodb"]["PutItem"]
        self.assertEqual(counts, {"throughput": 1, "throttle": 1, "internal": 1, "conflict": 1})

    def test_a_transaction_is_cancelled_for_a_conflict_only_when_it_names_the_match(self):
        self.admin("/_kabinet/faults", {"dynamodb:TransactWriteItems:conflict": {"match": "ORG#2"}})
        items = lambda org: [{"Put": {"TableName": "t", "Item": {"pk": {"S": f"{org}#{i}"}}}} for i in range(3)]  # noqa: E731
        code, status, response = self.code(lambda: self.db.transact_write_items(TransactItems=items("ORG#2")))
        self.assertEqual((code, status), ("TransactionCanceledException", 400))
        self.assertEqual([r["Code"] for r in response["CancellationReasons"]], ["TransactionConflict", "None", "None"])
        self.assertIsNone(self.code(lambda: self.db.transact_write_items(TransactItems=items("ORG#3"))))
        self.admin("/_kabinet/faults", {})
        self.assertIsNone(self.item("ORG#2#0"))
        self.assertIsNotNone(self.item("ORG#3#0"))

    def test_ses_and_s3_faults(self):
        ses = self.emulator.client("sesv2", retries={"total_max_attempts": 1})
        s3 = self.emulator.client("s3", retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
        ses.create_email_identity(EmailIdentity="kabinet.test")
        s3.create_bucket(Bucket="bkt")
        send = lambda: ses.send_email(FromEmailAddress="a@kabinet.test", Destination={"ToAddresses": ["x@y.test"]},  # noqa: E731
                                      Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})
        self.admin("/_kabinet/faults", {"sesv2:SendEmail:too_many": 1})
        self.assertEqual(self.code(send)[:2], ("TooManyRequestsException", 429))
        self.admin("/_kabinet/faults", {"sesv2:SendEmail:rejected": 1})
        self.assertEqual(self.code(send)[:2], ("MessageRejected", 400))
        self.admin("/_kabinet/faults", {"s3:*:slowdown": 1})
        self.assertEqual(self.code(lambda: s3.put_object(Bucket="bkt", Key="k", Body=b"x"))[:2], ("SlowDown", 503))
        self.assertEqual(self.code(lambda: s3.head_object(Bucket="bkt", Key="k"))[1], 503)
        self.admin("/_kabinet/faults", {})
        self.assertEqual(self.code(lambda: s3.head_object(Bucket="bkt", Key="k"))[0], "404", "nothing stored")
        self.assertEqual(self.admin("/_kabinet/mail"), [], "nothing sent")
        stats = self.admin("/_kabinet/stats")["faults"]
        self.assertEqual(stats["sesv2"], {"SendEmail": {"too_many": 1, "rejected": 1}})
        self.assertEqual(stats["s3"], {"PutObject": {"slowdown": 1}, "HeadObject": {"slowdown": 1}})

    def test_latency_is_added(self):
        self.admin("/_kabinet/faults", {"dynamodb:DescribeTable:latency_ms": 300})
        started = time.monotonic()
        self.db.describe_table(TableName="t")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_the_admin_endpoint_reads_and_refuses(self):
        self.assertEqual(self.admin("/_kabinet/faults", {"s3:*:slowdown": 0.5, "seed": 3}),
                         {"s3:*:slowdown": 0.5, "seed": 3})
        self.assertEqual(self.admin("/_kabinet/faults"), {"s3:*:slowdown": 0.5, "seed": 3})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            self.admin("/_kabinet/faults", {"s3:*:throttle": 1})
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("s3 has no fault 'throttle'", caught.exception.read().decode())
        self.assertEqual(self.admin("/_kabinet/faults"), {"s3:*:slowdown": 0.5, "seed": 3})


class AtStart(unittest.TestCase):
    def test_a_wrong_environment_variable_stops_the_emulator_saying_why(self):
        run = subprocess.run([sys.executable, os.path.join(SCRIPTS, "emulator"), "--port", "0"],
                             env=dict(os.environ, KABINET_EMULATOR_FAULTS='{"dynamodb:*:nope": 1}'),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 2)
        self.assertIn("KABINET_EMULATOR_FAULTS: dynamodb:*:nope: dynamodb has no fault 'nope'", run.stderr)


if __name__ == "__main__":
    unittest.main()
