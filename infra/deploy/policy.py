"""Policy as code: the cfn-guard rules of infra/deploy/rules/ against every environment.

`python infra/deploy/policy.py` transforms template.yaml for each samconfig.toml environment
(transform.py), writes `.local/deploy/<env>.json` and runs cfn-guard (pinned, built by
`make tools` into .venv/bin) with every rule over it. Exit status 0 only when no rule fails.

Invariants:
- A rule that fails is reported with its name and the environment; a rule that is skipped
  (its `when` is false, e.g. prod-only rules on dev) is not a failure.
- The template checked is the one CloudFormation would deploy: after the SAM transform and
  with the stage's conditions resolved and the stage stamped in `Metadata.Deployment`
  (transform.py), for stage-specific rules.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import transform  # noqa: E402  (sibling module, path set above)

ROOT = transform.ROOT
RULES = ROOT / "infra" / "deploy" / "rules"
GUARD = Path(os.environ.get("CFN_GUARD", ROOT / ".venv" / "bin" / "cfn-guard"))
SUMMARY_LINE = re.compile(r"^(?P<file>[\w.-]+\.guard)/(?P<rule>\w+)\s+(?P<status>PASS|FAIL|SKIP)$")


@dataclass(frozen=True)
class Verdicts:
    """Each rule's status for one template, keyed `<file>/<rule>`."""

    by_rule: dict[str, str]

    def failed(self) -> list[str]:
        return sorted(rule for rule, status in self.by_rule.items() if status == "FAIL")


def environments(samconfig: Path = ROOT / "samconfig.toml") -> list[str]:
    """The environments samconfig.toml declares, in file order."""
    config = tomllib.loads(samconfig.read_text())
    return [name for name, section in config.items() if isinstance(section, dict)]


def deployed(env: str, samconfig: Path = ROOT / "samconfig.toml") -> dict[str, Any]:
    """The template `env` deploys, stamped with its environment and stage."""
    return transform.deployed_template(ROOT / "template.yaml", samconfig, env)


def guard(template_file: Path, rules: Path = RULES) -> Verdicts:
    """Runs cfn-guard with `rules` (a file or a directory) over one JSON template."""
    if not GUARD.exists():
        raise SystemExit(f"{GUARD} is missing: run `make tools` (cfn-guard, pinned in the Makefile)")
    run = subprocess.run(
        [
            str(GUARD), "validate",
            "--rules", str(rules),
            "--data", str(template_file),
            "--show-summary", "all",
            "--output-format", "single-line-summary",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    verdicts = {}
    for line in run.stdout.splitlines():
        match = SUMMARY_LINE.match(line.strip())
        if match:
            verdicts[f"{match['file']}/{match['rule']}"] = match["status"]
    # cfn-guard exits 19 when a rule fails, 0 when all pass; anything else is an error.
    if run.returncode not in (0, 19) or not verdicts:
        raise RuntimeError(f"cfn-guard failed (exit {run.returncode}): {run.stderr.strip()}")
    return Verdicts(verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / ".local" / "deploy")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for env in environments():
        path = args.out_dir / f"{env}.json"
        path.write_text(json.dumps(deployed(env), indent=1, sort_keys=True) + "\n")
        verdicts = guard(path)
        for rule, status in sorted(verdicts.by_rule.items()):
            print(f"{env:8} {status:4} {rule}")
        failures += len(verdicts.failed())
    if failures:
        print(f"policy: {failures} rule failure(s)", file=sys.stderr)
        return 1
    print("policy: every rule passes in every environment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
