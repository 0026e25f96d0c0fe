#!/usr/bin/env python3
"""Smoke test of a deployed order-system API (the pipeline runs it after every deploy).

    python3 infra/deploy/smoke.py https://abc.execute-api.af-south-1.amazonaws.com/

Invariants:
- Python 3 standard library only (urllib): it runs on a bare CI runner, no venv.
- Read-only and anonymous: six public GETs, no token, nothing written, so it is safe
  against prod. Each check sends its own `Accept` (JSON for the API, HTML for the console).
- One line per check, `PASS <check>: ...` or `FAIL <check>: ...`, saying what was seen;
  exit 0 only if every check passes (1 if any fails, 2 for a bad command line).
- Every check is retried (`--attempts`, `--delay`, each request bounded by `--timeout`)
  because a freshly deployed API may briefly answer 5xx/404 or not resolve yet.

The checks follow the API contract (docs/api.md): the category tree and the JWK Set
are public, any route needing a token answers 401 application/problem+json without one, and
the back-office console (GET /console, docs/console.md) is an HTML page that loads its
script from /console/assets/ under a Content-Security-Policy with Trusted Types, no framing
and no 'unsafe-inline'/'unsafe-eval'. M-Pesa's callback routes take only POST, so a GET on
one (with a token that is not the callbacks') reaches the payments function and is answered
405 without reading anything: proof that the function starts with its M-Pesa configuration
(a function that cannot start answers 5xx), without posting to a callback. Africa's Talking's
SMS delivery-report route is checked the same way: a GET (token `smoke`, not the reports')
answered 405 by the SMS delivery-report function, which started with its token; no report is
posted, so none is refused and counted by the refused-reports alarm.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from typing import Any, Callable, NamedTuple, TextIO

JSON = "application/json"
HTML = "text/html"


class Response(NamedTuple):
    status: int
    content_type: str  # media type only, lower case, parameters dropped
    body: bytes
    headers: Message  # every response header; get()/get_all() ignore the name's case


class CheckFailed(Exception):
    """What a check saw that it did not expect."""


def fetch(url: str, timeout: float, accept: str = JSON) -> Response:
    """GET `url` without credentials; 4xx/5xx are answers too, not exceptions."""
    request = urllib.request.Request(
        url,
        method="GET",
        headers={"Accept": accept, "User-Agent": "order-system-smoke/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    media_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return Response(status, media_type, body, headers)


def describe(response: Response) -> str:
    return f"{response.status} {response.content_type or '(no content type)'}"


def json_body(response: Response) -> Any:
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        snippet = response.body[:80].decode("utf-8", "replace")
        raise CheckFailed(f"{describe(response)}, body is not JSON: {snippet!r}") from None


def check_categories_tree(response: Response) -> str:
    if response.status != 200:
        raise CheckFailed(f"{describe(response)}, expected 200")
    body = json_body(response)
    if isinstance(body, list):
        return f"{describe(response)}, array of {len(body)}"
    if isinstance(body, dict):
        return f"{describe(response)}, object"
    raise CheckFailed(
        f"{describe(response)}, JSON {type(body).__name__}, expected object or array")


def check_jwks(response: Response) -> str:
    if response.status != 200:
        raise CheckFailed(f"{describe(response)}, expected 200")
    body = json_body(response)
    if not isinstance(body, dict):
        raise CheckFailed(f"{describe(response)}, JSON {type(body).__name__}, expected object")
    keys = body.get("keys")
    if not isinstance(keys, list) or not keys:
        raise CheckFailed(
            f"{describe(response)}, \"keys\" is {json.dumps(keys)}, expected a non-empty array")
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            raise CheckFailed(f"{describe(response)}, keys[{index}] is not an object")
        for member in ("kty", "kid"):
            if not isinstance(key.get(member), str) or not key[member]:
                raise CheckFailed(f"{describe(response)}, keys[{index}] has no \"{member}\"")
        if "d" in key:  # the private part of an EC/RSA key must never be published
            raise CheckFailed(
                f"{describe(response)}, keys[{index}] holds private key material (\"d\")")
    kids = ", ".join(str(key["kid"]) for key in keys)
    return f"{describe(response)}, {len(keys)} key(s): {kids}"


def check_orders_requires_auth(response: Response) -> str:
    if response.status != 401:
        raise CheckFailed(f"{describe(response)}, expected 401 without a token")
    if response.content_type != "application/problem+json":
        raise CheckFailed(f"{describe(response)}, expected application/problem+json")
    body = json_body(response)
    status = body.get("status") if isinstance(body, dict) else None
    if status != 401:
        raise CheckFailed(f"{describe(response)}, body status is {json.dumps(status)}, "
                          "expected 401")
    return f"{describe(response)}, status 401"


def check_payments_callbacks(response: Response) -> str:
    return check_function_405(response, "the payments function")


def check_sms_delivery(response: Response) -> str:
    return check_function_405(response, "the SMS delivery-report function")


def check_function_405(response: Response, function: str) -> str:
    """`function`'s own 405 problem for a GET on its POST-only callback route: the route is
    deployed and the function started (API Gateway's own answers are not problems)."""
    if response.status != 405:
        raise CheckFailed(f"{describe(response)}, expected 405 ({function} "
                          "answering a GET on a POST-only callback route)")
    if response.content_type != "application/problem+json":
        raise CheckFailed(f"{describe(response)}, expected application/problem+json")
    body = json_body(response)
    status = body.get("status") if isinstance(body, dict) else None
    if status != 405:
        raise CheckFailed(f"{describe(response)}, body status is {json.dumps(status)}, "
                          "expected 405")
    return f"{describe(response)}, status 405"


# <script ... src="/console/assets/...">, the hashed bundle Vite writes into index.html
CONSOLE_SCRIPT = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']?(/console/assets/[^"'\s>]+)""", re.IGNORECASE)


def csp_directives(policy: str) -> dict[str, list[str]]:
    """directive name -> its values, lower case; several policies (a comma or several
    headers) are merged, which is enough to ask whether a directive is there at all."""
    directives: dict[str, list[str]] = {}
    for directive in re.split(r"[;,]", policy.lower()):
        tokens = directive.split()
        if tokens:
            directives.setdefault(tokens[0], []).extend(tokens[1:])
    return directives


def check_console(response: Response) -> str:
    if response.status != 200:
        raise CheckFailed(f"{describe(response)}, expected 200")
    if response.content_type != HTML:
        raise CheckFailed(f"{describe(response)}, expected {HTML}")
    policy = ", ".join(response.headers.get_all("Content-Security-Policy") or [])
    if not policy.strip():
        raise CheckFailed(f"{describe(response)}, no Content-Security-Policy header")
    directives = csp_directives(policy)
    if "'script'" not in directives.get("require-trusted-types-for", []):
        raise CheckFailed(f"{describe(response)}, Content-Security-Policy lacks "
                          "\"require-trusted-types-for 'script'\"")
    if set(directives.get("frame-ancestors", [])) != {"'none'"}:
        raise CheckFailed(f"{describe(response)}, Content-Security-Policy lacks "
                          "\"frame-ancestors 'none'\"")
    for unsafe in ("unsafe-inline", "unsafe-eval"):
        if unsafe in policy.lower():
            raise CheckFailed(f"{describe(response)}, Content-Security-Policy allows '{unsafe}'")
    script = CONSOLE_SCRIPT.search(response.body.decode("utf-8", "replace"))
    if script is None:
        raise CheckFailed(f"{describe(response)}, body ({len(response.body)} bytes) has no "
                          "<script src=\"/console/assets/...\">")
    return f"{describe(response)}, CSP with Trusted Types, script {script.group(1)}"


class Check(NamedTuple):
    name: str
    path: str
    verify: Callable[[Response], str]
    accept: str = JSON


CHECKS = (
    Check("categories-tree", "/api/v1/categories/tree", check_categories_tree),
    Check("jwks", "/api/v1/auth/jwks.json", check_jwks),
    Check("orders-requires-auth", "/api/v1/orders", check_orders_requires_auth),
    Check("payments-callbacks", "/api/v1/payments/callbacks/smoke/stk", check_payments_callbacks),
    Check("sms-delivery", "/api/v1/notifications/sms/delivery/smoke", check_sms_delivery),
    Check("console", "/console", check_console, accept=HTML),
)


def run_check(check: Check, base_url: str, timeout: float, attempts: int,
              delay: float) -> tuple[bool, str]:
    """(passed, what was seen); the last attempt's result when every attempt fails."""
    url = base_url.rstrip("/") + check.path
    seen = "not tried"
    for attempt in range(1, attempts + 1):
        try:
            return True, f"GET {check.path}: {check.verify(fetch(url, timeout, check.accept))}"
        except CheckFailed as failure:
            seen = str(failure)
        # DNS not resolving yet, refused, timed out, cut off mid-answer
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
            seen = f"no answer ({getattr(error, 'reason', error)})"
        if attempt < attempts:
            time.sleep(delay)
    return False, f"GET {check.path}: {seen} (after {attempts} attempt(s))"


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="API base URL, e.g. the stack output ApiUrl")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (10)")
    parser.add_argument("--attempts", type=int, default=6, help="tries per check (6)")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds between tries (5)")
    args = parser.parse_args(argv)
    if not args.base_url.startswith(("https://", "http://")):
        parser.error(f"base_url must be an http(s) URL, got {args.base_url!r}")
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")

    failed = []
    for check in CHECKS:
        passed, seen = run_check(check, args.base_url, args.timeout, args.attempts, args.delay)
        print(f"{'PASS' if passed else 'FAIL'} {check.name}: {seen}", file=out, flush=True)
        if not passed:
            failed.append(check.name)
    if failed:
        print(f"smoke: {len(failed)} of {len(CHECKS)} checks failed ({', '.join(failed)}) "
              f"against {args.base_url}", file=out)
        return 1
    print(f"smoke: all {len(CHECKS)} checks passed against {args.base_url}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
