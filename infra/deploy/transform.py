"""The template as CloudFormation would deploy it to one environment, computed offline.

`python infra/deploy/transform.py --env prod --out .local/deploy/prod.json` reads
template.yaml and the `prod` environment of samconfig.toml, runs the SAM transform
(samtranslator, the library `sam deploy` uses) and then resolves what CloudFormation
resolves at deploy time from the parameters: `Conditions`, `Fn::If` (also in
`DeletionPolicy`, which the LanguageExtensions transform allows) and resources whose
`Condition` is false. The policy rules (infra/deploy/rules/) and the inventory test run on
the result.

Invariants:
- Offline: no AWS call. Local `CodeUri`s become the S3 locations `sam package` would
  upload to; managed-policy lookups (an IAM call) are refused, so a template that needs
  one fails here (the template grants inline, least-privilege statements only).
- Values CloudFormation only knows at deploy time (SSM-typed parameters, dynamic
  references, `Ref`s to resources) stay as they are.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import os
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

NO_VALUE = {"Ref": "AWS::NoValue"}


class TransformError(Exception):
    """The template or samconfig.toml cannot be turned into the deployed template."""


def environment(samconfig: Path, env: str) -> tuple[str, dict[str, str]]:
    """The region and parameter overrides of one samconfig.toml environment."""
    config = tomllib.loads(samconfig.read_text())
    if env not in config:
        raise TransformError(f"samconfig.toml has no environment {env!r}")
    section = config[env]
    deploy = section.get("deploy", {}).get("parameters", {})
    region = deploy.get("region") or section.get("global", {}).get("parameters", {}).get("region")
    if not region:
        raise TransformError(f"environment {env!r} sets no region")
    return region, parse_overrides(deploy.get("parameter_overrides", ""))


def parse_overrides(overrides: str | list[str]) -> dict[str, str]:
    """`Key=value Key2='v a l'` (or a list of such strings) as a dict, as `sam` reads it."""
    words = shlex.split(overrides) if isinstance(overrides, str) else [
        w for item in overrides for w in shlex.split(item)
    ]
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise TransformError(f"parameter override {word!r} is not Key=value")
        values[key] = value
    return values


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value for this deploy: the override, else the default."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TransformError(f"overrides of undeclared parameters: {', '.join(unknown)}")
    values = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise TransformError(f"parameter {name} has no value (no override, no default)")
    return values


class NoManagedPolicies:
    """A managed-policy loader that refuses: looking one up would need IAM."""

    def load(self) -> dict[str, str]:
        raise TransformError("the template refers to a managed policy by name")


def sam_transform(template: dict[str, Any], values: dict[str, str], region: str) -> dict[str, Any]:
    """The SAM transform of `template`, as `sam deploy` would submit it."""
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(template)
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = resource.get("Properties", {}).get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                resource["Properties"]["CodeUri"] = f"s3://sam-artifacts/{name}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    # samtranslator prints progress to stdout; keep stdout for our own output.
    with contextlib.redirect_stdout(sys.stderr):
        return transform(template, values, NoManagedPolicies())


def evaluate(condition: Any, conditions: dict[str, Any], values: dict[str, str]) -> bool:
    """The value of a condition expression (the functions Conditions may use)."""
    if isinstance(condition, dict) and len(condition) == 1:
        (fn, args), = condition.items()
        if fn == "Condition":
            return evaluate(conditions[args], conditions, values)
        if fn == "Fn::Not":
            return not evaluate(args[0], conditions, values)
        if fn == "Fn::And":
            return all(evaluate(a, conditions, values) for a in args)
        if fn == "Fn::Or":
            return any(evaluate(a, conditions, values) for a in args)
        if fn == "Fn::Equals":
            left, right = (scalar(a, values) for a in args)
            return left == right
    raise TransformError(f"unsupported condition {condition!r}")


def scalar(value: Any, values: dict[str, str]) -> str:
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in values:
        return values[value["Ref"]]
    if isinstance(value, (str, int, float, bool)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise TransformError(f"condition operand {value!r} is not known before deploy")


def resolve(node: Any, truth: dict[str, bool]) -> Any:
    """`node` with every `Fn::If` replaced by its branch; `AWS::NoValue` entries removed."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if truth[name] else no, truth)
        out = {}
        for key, value in node.items():
            value = resolve(value, truth)
            if value != NO_VALUE:
                out[key] = value
        return out
    if isinstance(node, list):
        return [v for v in (resolve(v, truth) for v in node) if v != NO_VALUE]
    return node


def deployed_template(template_path: Path, samconfig: Path, env: str) -> dict[str, Any]:
    """The CloudFormation template `env` deploys, with its conditions resolved and stamped
    with the environment and its stage in `Metadata.Deployment` (for stage-specific rules)."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(template_path.read_text())
    region, overrides = environment(samconfig, env)
    values = parameter_values(template, overrides)
    transformed = sam_transform(template, values, region)
    conditions = transformed.get("Conditions", {})
    truth = {name: evaluate(expr, conditions, values) for name, expr in conditions.items()}
    resources = {
        name: resource
        for name, resource in transformed["Resources"].items()
        if truth.get(resource.get("Condition", ""), True)
    }
    transformed["Resources"] = resources
    resolved = resolve(transformed, truth)
    resolved.pop("Conditions", None)
    for resource in resolved["Resources"].values():
        resource.pop("Condition", None)
    resolved.setdefault("Metadata", {})["Deployment"] = {
        "Environment": env,
        "Stage": values.get("Stage"),
    }
    return resolved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="samconfig.toml environment (default, staging, prod)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--config", type=Path, default=ROOT / "samconfig.toml")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON template")
    args = parser.parse_args(argv)
    try:
        deployed = deployed_template(args.template, args.config, args.env)
    except TransformError as e:
        print(f"transform: {e}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(deployed, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
