"""Every samconfig.toml environment against the template's parameter constraints.

No linter checks `parameter_overrides` against `AllowedPattern`/`AllowedValues`, so a
placeholder (`REPLACE_ME`) or a value for the wrong stage would only fail during a deploy,
or worse, deploy. `python infra/deploy/environments.py` lists every problem and exits
non-zero when there is one; `make test` runs it through infra/deploy/tests/.

Invariants checked per environment (`default` is the dev stage):
- the environment is one of dev/staging/prod, with stack `order-system-<stage>` in the
  chosen region, stage tags, AUTO_EXPAND + IAM capabilities, parallel builds without SAM's
  cache (cargo's is the one that works for a workspace),
  `validate lint`, and prod confirms its change set;
- every override names a declared parameter, and every parameter without a default is set;
- each value satisfies the parameter's AllowedValues, AllowedPattern (whole value, as
  CloudFormation matches it), Min/MaxLength and, for numbers, Min/MaxValue;
- names of secrets and SSM parameters follow `order-system/<stage>/…` and
  `/order-system/<stage>/…` for the environment's own stage (no environment reads
  another's configuration);
- nothing in samconfig.toml looks like a secret (a PEM block or a long random token).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import transform  # noqa: E402

ROOT = transform.ROOT
REGION = "af-south-1"
STAGES = {"default": "dev", "staging": "staging", "prod": "prod"}
SSM_PARAMETER_TYPE = re.compile(r"^AWS::SSM::Parameter::Value<")
# A PEM block, a Google client secret, an Africa's Talking key, or any long unbroken token.
SECRET_MARKERS = re.compile(r"-----BEGIN|GOCSPX-|atsk_")
SECRET_LOOKING = re.compile(SECRET_MARKERS.pattern + r"|[A-Za-z0-9+=_]{32,}")


def template_parameters(template_path: Path = ROOT / "template.yaml") -> dict[str, dict[str, Any]]:
    """The `Parameters` section of template.yaml."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(template_path.read_text()).get("Parameters", {})


def value_problems(name: str, spec: dict[str, Any], value: str) -> list[str]:
    """How `value` breaks the constraints CloudFormation enforces for parameter `name`."""
    problems = []
    kind = spec.get("Type", "String")
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        problems.append(f"{name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        problems.append(f"{name}={value!r} does not match {pattern}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"{name}={value!r} is shorter than {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"{name}={value!r} is longer than {spec['MaxLength']}")
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            return problems + [f"{name}={value!r} is not a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{name}={value} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{name}={value} is above {spec['MaxValue']}")
    return problems


def naming_problems(name: str, spec: dict[str, Any], value: str, stage: str) -> list[str]:
    """Names of per-environment settings must belong to the environment's own stage."""
    if SSM_PARAMETER_TYPE.match(spec.get("Type", "")) or name.endswith("ParameterName"):
        prefix = f"/order-system/{stage}/"
        if not re.fullmatch(re.escape(prefix) + r"[a-z0-9-]+", value):
            return [f"{name}={value!r} is not an SSM parameter under {prefix}"]
    if name.endswith("SecretName"):
        prefix = f"order-system/{stage}/"
        if not re.fullmatch(re.escape(prefix) + r"[a-z0-9-]+", value):
            return [f"{name}={value!r} is not a secret under {prefix}"]
    return []


def environment_problems(env: str, section: dict[str, Any], parameters: dict[str, dict[str, Any]]) -> list[str]:
    """Everything wrong with one samconfig.toml environment."""
    if env not in STAGES:
        return [f"unknown environment {env!r} (expected one of {sorted(STAGES)})"]
    stage = STAGES[env]
    problems = []
    global_ = section.get("global", {}).get("parameters", {})
    deploy = section.get("deploy", {}).get("parameters", {})
    build = section.get("build", {}).get("parameters", {})
    if global_.get("stack_name") != f"order-system-{stage}":
        problems.append(f"stack_name is {global_.get('stack_name')!r}, expected 'order-system-{stage}'")
    if global_.get("region") != REGION:
        problems.append(f"region is {global_.get('region')!r}, expected {REGION!r}")
    capabilities = set(str(deploy.get("capabilities", "")).split())
    if not {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= capabilities:
        problems.append("capabilities must include CAPABILITY_IAM and CAPABILITY_AUTO_EXPAND")
    if f"stage={stage}" not in str(deploy.get("tags", "")).split():
        problems.append(f"tags must include stage={stage}")
    if stage == "prod" and deploy.get("confirm_changeset") is not True:
        problems.append("prod must confirm its change set (confirm_changeset = true)")
    if build.get("parallel") is not True or build.get("beta_features") is not True:
        problems.append("builds must be parallel with beta_features (rust-cargolambda)")
    if build.get("cached") is not False:
        problems.append(
            "builds must not use SAM's cache (it hashes target/ while parallel builds write it)"
        )
    if section.get("validate", {}).get("parameters", {}).get("lint") is not True:
        problems.append("validate must lint (lint = true)")
    try:
        overrides = transform.parse_overrides(deploy.get("parameter_overrides", ""))
    except transform.TransformError as e:
        return problems + [str(e)]
    for name in sorted(set(overrides) - set(parameters)):
        problems.append(f"{name} is not a parameter of the template")
    for name, spec in parameters.items():
        if name not in overrides:
            if "Default" not in spec:
                problems.append(f"{name} has no default and is not set")
            continue
        value = overrides[name]
        problems += value_problems(name, spec, value)
        problems += naming_problems(name, spec, value, stage)
        if SECRET_LOOKING.search(value):
            problems.append(f"{name} looks like a secret; only secrets' names belong here")
    if overrides.get("Stage", stage) != stage:
        problems.append(f"Stage={overrides.get('Stage')!r} in environment {env!r}")
    return problems


def problems(config: dict[str, Any], parameters: dict[str, dict[str, Any]]) -> list[str]:
    """Every problem of every environment, each prefixed with its environment."""
    found = []
    for env, section in config.items():
        if isinstance(section, dict):
            found += [f"[{env}] {p}" for p in environment_problems(env, section, parameters)]
    missing = sorted(set(STAGES) - set(config))
    found += [f"environment {env!r} is missing" for env in missing]
    return found


def main() -> int:
    text = (ROOT / "samconfig.toml").read_text()
    found = problems(tomllib.loads(text), template_parameters())
    if SECRET_MARKERS.search(text):
        found.append("samconfig.toml contains something that looks like a secret")
    for problem in found:
        print(problem)
    if found:
        return 1
    print("samconfig.toml: every environment satisfies the template")
    return 0


if __name__ == "__main__":
    sys.exit(main())
