#!/usr/bin/env python3
"""The deploy rehearsed with no AWS account (`make deploy-rehearsal`): the SAM templates
translated offline by SAM's own translator (samtranslator), then created as stacks in the
emulator's CloudFormation (moto), nested stacks included, with the built artifacts
uploaded to its S3, as `sam package` and `sam deploy` would.

- Starts its own emulator: the project's serializing launcher (the scripts/emulator
  package) on a free loopback port, with the changes to moto `serve_emulator` names (this
  script with `--emulator`).
- Each template (the root, then every `AWS::Serverless::Application`'s, depth first) is
  translated; a nested application becomes the `AWS::CloudFormation::Stack` SAM makes of
  it, whose TemplateURL is its translated template uploaded to the emulator's S3. Each
  function's code is its artifact's zip (`bootstrap`, as `make size` zips it) uploaded
  once per artifact, as `sam package` uploads identical code once.
- Resources of a type moto's CloudFormation does not model (API Gateway v2, Cognito,
  Secrets Manager, SES, CloudWatch alarms, S3 bucket policies, ...: moto would skip them
  with a warning) are taken out, their references replaced by placeholders, and listed.
  Everything else is created: the root stack must reach CREATE_COMPLETE, each nested one
  too.
- Prints per stack the resources created and stubbed, by type, and writes what the
  emulator's Lambda and IAM then hold (every function's configuration, code hash, role
  and the role's policies) with the stacks' resources to a JSON file, which the rehearsal
  test (tests/tests/api/rehearsal.rs) compares with the route table.

Usage: deploy_rehearsal.py --artifacts target/lambda [--template infra/template.yaml]
                           [--out target/deploy-rehearsal.json] [--param Name=Value ...]
"""

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter

# The region samconfig.toml deploys to (the translator asks for one).
REGION = "eu-central-1"
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
STACK = "kabinet"
DEPLOY_BUCKET = "kabinet-rehearsal-deploy"
# Production's values where the template's defaults are a development machine's.
OVERRIDES = {"Arch": "arm64"}


# ---------------------------------------------------------------------------
# The emulator: the project's launcher, with what the rehearsal needs of moto's
# CloudFormation.
# ---------------------------------------------------------------------------
def serve_emulator():
    """Runs the scripts/emulator package's server in this process after these changes to moto's
    CloudFormation models, each a gap that would hide what a deploy creates:
    - AWS::Lambda::Function drops `Architectures` (every function would read x86_64): it
      is passed on;
    - AWS::IAM::Role stores inline policies as Python objects (GetRolePolicy then answers
      their repr) and ignores `ManagedPolicyArns`: the policies are stored as IAM stores
      them, JSON, and the managed ones attached (AWS's managed policies loaded, as IAM
      has them);
    - each function keeps its own copy of its code's bytes: functions running the same
      zip share one copy (some 200 functions of a 6 MB artifact would hold 1.2 GB)."""
    from moto.awslambda.models import LambdaFunction
    from moto.iam.models import Role, iam_backends

    original_role = Role.create_from_cloudformation_json.__func__

    def create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        role = original_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        for name, document in list(role.policies.items()):
            if not isinstance(document, str):
                role.policies[name] = json.dumps(document)
        backend = iam_backends[account_id]["aws"]
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
            backend.attach_role_policy(arn, role.name)
        return role

    Role.create_from_cloudformation_json = classmethod(create_role)
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

    original = LambdaFunction.create_from_cloudformation_json.__func__
    shared = {}

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        architectures = cloudformation_json["Properties"].get("Architectures")
        if architectures:
            fn.architectures = architectures
        if getattr(fn, "code_bytes", None):
            fn.code_bytes = shared.setdefault(fn.code_digest, fn.code_bytes)
        return fn

    LambdaFunction.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    sys.path.insert(0, SCRIPTS)
    from emulator.__main__ import main

    sys.argv = [os.path.join(SCRIPTS, "emulator")] + sys.argv[2:]
    main()


def start_emulator():
    command = [sys.executable, os.path.abspath(__file__), "--emulator",
               "--host", "127.0.0.1", "--port", "0", "--parent-pid", str(os.getpid())]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        if line.startswith("READY "):
            return child, f"http://127.0.0.1:{line.split()[1]}"
    raise SystemExit("deploy rehearsal: the emulator exited before it was ready")


# ---------------------------------------------------------------------------
# Artifacts
# ---------------------------------------------------------------------------
def artifact_zip(directory, binary):
    """The artifact's zip as Lambda receives it (`bootstrap`, executable), as `make size`
    zips it."""
    path = os.path.join(directory, binary, "bootstrap")
    if not os.path.isfile(path):
        raise SystemExit(
            f"deploy rehearsal: no artifact {binary} ({path} is missing). Build the artifacts first: "
            "`make deploy-build` (or `cargo lambda build --release` and `make deploy-rehearsal LAMBDA_DIR=<its target dir>/lambda`).")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
    return out.getvalue()


# ---------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------
def moto_types():
    """The resource types moto's CloudFormation creates (its models' registry)."""
    import moto.cloudformation.parsing as parsing

    return {m.cloudformation_type() for m in parsing.get_model_list()}


class NoManagedPolicies:
    """The templates name no AWS managed policy by name: nothing to look up."""

    def load(self):
        return {}


class Deployer:
    def __init__(self, s3, artifacts, parameters):
        self.s3 = s3
        self.artifacts = artifacts  # binary -> (key, sha256 base64)
        self.parameters = parameters
        self.supported = moto_types()
        self.stubbed = []  # (template, logical id, type)
        self.placeholders = {}  # "Logical" / "Logical.Attr" -> placeholder

    def prepare(self, path, parameter_values):
        """The template at `path`, translated as CloudFormation receives it after `sam
        package` (nested ones uploaded), with what moto does not model taken out."""
        from samtranslator.translator.transform import transform
        from samtranslator.yaml_helper import yaml_parse

        # The translator's metrics are never published offline: not a warning here.
        logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
        with open(path, encoding="utf-8") as f:
            template = yaml_parse(f.read())
        name = os.path.relpath(path)
        template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
        for logical, resource in template.get("Resources", {}).items():
            props = resource.setdefault("Properties", {})
            if resource["Type"] == "AWS::Serverless::Function":
                binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                if binary not in self.artifacts:
                    raise SystemExit(f"deploy rehearsal: {name}: {logical} runs no known artifact ({binary!r})")
                props["CodeUri"] = {"Bucket": DEPLOY_BUCKET, "Key": self.artifacts[binary][0]}
            elif resource["Type"] == "AWS::Serverless::Application":
                location = props.get("Location")
                if not isinstance(location, str):
                    raise SystemExit(f"deploy rehearsal: {name}: {logical}: only local nested templates are rehearsed")
                child = os.path.normpath(os.path.join(os.path.dirname(path), location))
                nested = self.prepare(child, {})
                key = f"templates/{os.path.relpath(child)}.json"
                self.s3.put_object(Bucket=DEPLOY_BUCKET, Key=key, Body=json.dumps(nested).encode())
                props["Location"] = f"https://s3.amazonaws.com/{DEPLOY_BUCKET}/{key}"
        if "Transform" in template:
            defaults = {n: p["Default"] for n, p in template.get("Parameters", {}).items() if "Default" in p}
            template = transform(template, {**defaults, **parameter_values}, NoManagedPolicies())
        return self.stub(name, template)

    def stub(self, name, template):
        resources = template.get("Resources", {})
        gone = {logical for logical, r in resources.items() if r["Type"] not in self.supported}
        for logical in sorted(gone):
            self.stubbed.append((name, logical, resources.pop(logical)["Type"]))
        if not gone:
            return template

        def placeholder(logical, attr=None):
            key = f"{logical}.{attr}" if attr else logical
            value = f"rehearsal-stub-{logical}-{attr}" if attr else f"rehearsal-stub-{logical}"
            self.placeholders.setdefault(f"{name}:{key}", value)
            return value

        pattern = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}")

        def sub(text, variables):
            def one(m):
                if m.group(1) in gone and m.group(1) not in variables:
                    return placeholder(m.group(1), m.group(2))
                return m.group(0)

            return pattern.sub(one, text)

        def walk(node):
            if isinstance(node, list):
                return [walk(v) for v in node]
            if not isinstance(node, dict):
                return node
            if len(node) == 1:
                (fn, arg), = node.items()
                if fn == "Ref" and arg in gone:
                    return placeholder(arg)
                if fn == "Fn::GetAtt":
                    logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
                    if logical in gone:
                        return placeholder(logical, attr)
                if fn == "Fn::Sub":
                    if isinstance(arg, str):
                        return {fn: sub(arg, {})}
                    return {fn: [sub(arg[0], arg[1]), walk(arg[1])]}
            return {k: walk(v) for k, v in node.items()}

        for resource in resources.values():
            depends = resource.get("DependsOn")
            if depends:
                depends = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in gone]
                if depends:
                    resource["DependsOn"] = depends
                else:
                    del resource["DependsOn"]
        for section in ("Resources", "Outputs"):
            if section in template:
                template[section] = walk(template[section])
        return template


# ---------------------------------------------------------------------------
# What the emulator holds afterwards
# ---------------------------------------------------------------------------
def wait_created(cfn, stack):
    deadline = time.monotonic() + 600
    while True:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"deploy rehearsal: {stack} still {status} after 10 minutes")
        time.sleep(0.5)
    if status != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        for e in events:
            if e.get("ResourceStatusReason"):
                print(f"  {e['LogicalResourceId']} {e['ResourceStatus']}: {e['ResourceStatusReason']}", file=sys.stderr)
        raise SystemExit(f"deploy rehearsal: {stack} ended {status}")


def stacks(cfn, stack, template):
    """(stack name, template name, its resources), the nested ones after their parent."""
    resources = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        resources += page["StackResourceSummaries"]
    out = [(stack, template, resources)]
    for r in resources:
        if r["ResourceType"] == "AWS::CloudFormation::Stack":
            status = cfn.describe_stacks(StackName=r["PhysicalResourceId"])["Stacks"][0]["StackStatus"]
            if status != "CREATE_COMPLETE":
                raise SystemExit(f"deploy rehearsal: nested stack {r['LogicalResourceId']} ended {status}")
            out += stacks(cfn, r["PhysicalResourceId"], r["LogicalResourceId"])
    return out


def functions_and_roles(lam, iam):
    out = []
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            role = f["Role"].rsplit("/", 1)[-1]
            inline = {}
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                inline[name] = json.loads(document) if isinstance(document, str) else document
            attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
            out.append({
                "name": f["FunctionName"],
                "handler": f.get("Handler"),
                "runtime": f.get("Runtime"),
                "architectures": f.get("Architectures"),
                "memory": f.get("MemorySize"),
                "timeout": f.get("Timeout"),
                "environment": f.get("Environment", {}).get("Variables", {}),
                "code_sha256": f.get("CodeSha256"),
                "role": role,
                "inline_policies": inline,
                "attached_policies": attached,
            })
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", required=True, help="where each artifact's <binary>/bootstrap is")
    parser.add_argument("--template", default="infra/template.yaml")
    parser.add_argument("--out", default="target/deploy-rehearsal.json")
    parser.add_argument("--param", action="append", default=[], help="Name=Value, as `sam deploy --parameter-overrides`")
    args = parser.parse_args()
    started = time.monotonic()

    import boto3
    from samtranslator.yaml_helper import yaml_parse

    with open(args.template, encoding="utf-8") as f:
        root = yaml_parse(f.read())
    parameters = {n: str(p["Default"]) for n, p in root.get("Parameters", {}).items() if "Default" in p}
    parameters.update(OVERRIDES)
    parameters.update(dict(p.split("=", 1) for p in args.param))

    # The artifacts every template names, as the deploy uploads them.
    binaries = set()
    paths = [args.template]
    while paths:
        current = paths.pop()
        with open(current, encoding="utf-8") as f:
            text = f.read()
        binaries.update(re.findall(r"^\s+Binary: (\S+)$", text, re.M))
        for location in re.findall(r"^\s+Location: (\S+\.ya?ml)$", text, re.M):
            paths.append(os.path.join(os.path.dirname(current), location))
    zips = {b: artifact_zip(args.artifacts, b) for b in sorted(binaries)}

    child, endpoint = start_emulator()
    try:
        session = boto3.session.Session(aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal",
                                        region_name=REGION)
        client = lambda service: session.client(service, endpoint_url=endpoint)
        s3, cfn, lam, iam = client("s3"), client("cloudformation"), client("lambda"), client("iam")
        s3.create_bucket(Bucket=DEPLOY_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        artifacts = {}
        for binary, body in zips.items():
            digest = hashlib.sha256(body)
            key = f"artifacts/{binary}-{digest.hexdigest()[:16]}.zip"
            s3.put_object(Bucket=DEPLOY_BUCKET, Key=key, Body=body)
            artifacts[binary] = (key, base64.b64encode(digest.digest()).decode())
            print(f"uploaded {binary}: {len(body):,} bytes zipped")
        uploaded = time.monotonic()

        deployer = Deployer(s3, artifacts, parameters)
        template = deployer.prepare(args.template, parameters)
        s3.put_object(Bucket=DEPLOY_BUCKET, Key="templates/root.json", Body=json.dumps(template).encode())
        translated = time.monotonic()
        declared = set(template.get("Parameters", {}))
        cfn.create_stack(
            StackName=STACK,
            TemplateURL=f"https://s3.amazonaws.com/{DEPLOY_BUCKET}/templates/root.json",
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if k in declared],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        wait_created(cfn, STACK)
        created = time.monotonic()

        every = stacks(cfn, STACK, os.path.relpath(args.template))
        stubbed_by_template = {}
        for template_name, logical, kind in deployer.stubbed:
            stubbed_by_template.setdefault(template_name, Counter())[kind] += 1
        totals, stub_totals = Counter(), Counter()
        for stack, name, resources in every:
            kinds = Counter(r["ResourceType"] for r in resources)
            totals.update(kinds)
            print(f"stack {stack} ({name}): {len(resources)} resources created")
            for kind, n in sorted(kinds.items()):
                print(f"  {n:4d} {kind}")
        for template_name, kinds in stubbed_by_template.items():
            stub_totals.update(kinds)
            print(f"stubbed in {template_name} (moto's CloudFormation does not model them): "
                  + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        print(f"created in all: {sum(totals.values())} resources in {len(every)} stacks: "
              + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())))
        print("stubbed in all: " + ", ".join(f"{n} {k}" for k, n in sorted(stub_totals.items())))

        # What the functions are told of and granted: the root's data, queues and topics.
        data = ("AWS::DynamoDB::", "AWS::S3::", "AWS::SQS::", "AWS::SNS::")
        root_resources = {r["LogicalResourceId"]: {"type": r["ResourceType"], "physical": r["PhysicalResourceId"]}
                          for r in every[0][2] if r["ResourceType"].startswith(data)}
        table = root_resources.get("Table", {}).get("physical")
        if table:
            arn = client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
            root_resources["Table"]["arn"] = arn
        sqs = client("sqs")
        for logical, r in root_resources.items():
            if r["type"] == "AWS::S3::Bucket":
                r["arn"] = f"arn:aws:s3:::{r['physical']}"
            elif r["type"] == "AWS::SQS::Queue":
                r["arn"] = sqs.get_queue_attributes(QueueUrl=r["physical"], AttributeNames=["QueueArn"])[
                    "Attributes"]["QueueArn"]
        account = client("sts").get_caller_identity()["Account"]
        observed = {
            "region": REGION,
            "account": account,
            "parameters": parameters,
            "artifacts": {b: {"key": k, "sha256": sha} for b, (k, sha) in artifacts.items()},
            "root_resources": root_resources,
            "placeholders": deployer.placeholders,
            "stacks": {stack: dict(Counter(r["ResourceType"] for r in resources)) for stack, _, resources in every},
            "stubbed": [{"template": t, "logical": lid, "type": kind} for t, lid, kind in deployer.stubbed],
            "functions": functions_and_roles(lam, iam),
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(observed, f, indent=1, sort_keys=True)
        done = time.monotonic()
        peak = ""
        try:
            with open(f"/proc/{child.pid}/status", encoding="utf-8") as f:
                peak = next((f"; the emulator's peak memory {line.split(':')[1].strip()}"
                             for line in f if line.startswith("VmHWM:")), "")
        except OSError:
            pass  # not Linux
        print(f"deploy rehearsal: {len(observed['functions'])} functions{peak}; {done - started:.1f} s "
              f"(artifacts {uploaded - started:.1f} s, translation {translated - uploaded:.1f} s, "
              f"stacks {created - translated:.1f} s, reading back {done - created:.1f} s); wrote {args.out}")
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--emulator":
        serve_emulator()
    else:
        main()
