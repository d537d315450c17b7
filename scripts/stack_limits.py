#!/usr/bin/env python3
"""Each CloudFormation template named on the command line as CloudFormation receives it:
translated by SAM's own translator (samtranslator, offline), then counted. Prints one JSON
object per template: {"template", "resources", "outputs", "parameters", "bytes"}, the
resources being those after SAM's expansion (functions' roles, permissions, event source
mappings, nested applications' stacks). The infra tests check them against CloudFormation's
limits (tests/tests/api/infra.rs)."""

import json
import logging
import os
import sys

# The region samconfig.toml deploys to (the translator asks for one; nothing is called).
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

# The translator's own usage metrics, which it would warn are never published.
logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)


class NoManagedPolicies:
    """The templates name no AWS managed policy: nothing to look up."""

    def load(self):
        return {}


def packaged(template):
    """The template as `sam package` hands it on: local code and nested templates replaced
    by S3 locations (what they count as does not change)."""
    function = template.get("Globals", {}).get("Function", {})
    if isinstance(function.get("CodeUri"), str):
        function["CodeUri"] = "s3://bucket/code.zip"
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://bucket/code.zip"
        if resource.get("Type") == "AWS::Serverless::Application" and isinstance(props.get("Location"), str):
            props["Location"] = "https://bucket.s3.amazonaws.com/" + props["Location"]
    return template


def count(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    template = yaml_parse(text)
    # Parameters' defaults stand in for the values a deploy passes.
    defaults = {name: p["Default"] for name, p in template.get("Parameters", {}).items() if "Default" in p}
    if "Transform" in template:
        template = transform(packaged(template), defaults, NoManagedPolicies())
    return {
        "template": path,
        "resources": len(template.get("Resources", {})),
        "outputs": len(template.get("Outputs", {})),
        "parameters": len(template.get("Parameters", {})),
        "bytes": os.path.getsize(path),
    }


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(json.dumps(count(path)))
