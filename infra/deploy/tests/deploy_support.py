"""Shared by the deploy tests: imports of infra/deploy/ and the deployed templates, built once.

The tests run with the venv's Python from the repository root:
`.venv/bin/python -m unittest discover -s infra/deploy/tests` (make test does).
"""

from __future__ import annotations

import copy
import functools
import sys
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(DEPLOY))

import policy  # noqa: E402
import transform  # noqa: E402

ROOT = transform.ROOT


@functools.cache
def _deployed(env: str) -> dict[str, Any]:
    return policy.deployed(env)


def deployed(env: str) -> dict[str, Any]:
    """A fresh copy of the template `env` deploys (safe to mutate)."""
    return copy.deepcopy(_deployed(env))


def source_template() -> dict[str, Any]:
    """template.yaml as parsed by the SAM CLI (intrinsics in long form)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse((ROOT / "template.yaml").read_text())
