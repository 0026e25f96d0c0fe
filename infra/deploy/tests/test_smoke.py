"""Tests of infra/deploy/smoke.py against a local stand-in of the deployed API.

    python3 -m unittest discover -s infra/deploy/tests -p 'test_smoke*.py'

Invariants: standard library only; nothing leaves 127.0.0.1 (a ThreadingHTTPServer on an
ephemeral port); smoke.py is loaded by path, so no package layout or sys.path is assumed;
one attempt with no delay per check (except the retry test), so the suite runs in about a
second. Each broken variant breaks exactly one check, and the smoke test must fail naming
that check while the other five still pass. The stand-in console sends the policy the
ConsoleFunction sends (CONTENT_SECURITY_POLICY, read from functions/console/src/lib.rs), so a
policy change that smoke.py would reject after a deploy fails here first.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import socket
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[3]
SMOKE_PATH = REPO / "infra" / "deploy" / "smoke.py"
CONSOLE_LIB = REPO / "functions" / "console" / "src" / "lib.rs"
_spec = importlib.util.spec_from_file_location("order_system_smoke", SMOKE_PATH)
smoke = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = smoke
_spec.loader.exec_module(smoke)

JSON = "application/json"
PROBLEM = "application/problem+json"
HTML = "text/html"
JWK = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
       "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "order-system-1",
       "alg": "ES256", "use": "sig"}


def console_policy() -> str:
    """The ConsoleFunction's CONTENT_SECURITY_POLICY constant, as its source spells it."""
    source = CONSOLE_LIB.read_text(encoding="utf-8")
    found = re.search(r'pub const CONTENT_SECURITY_POLICY: &str = "([^"]+)";', source)
    if found is None:
        raise AssertionError(f"no CONTENT_SECURITY_POLICY constant in {CONSOLE_LIB}")
    return found.group(1)


CONSOLE_POLICY = console_policy()
# index.html as the Vite build writes it (base /console/, hashed names under assets/).
CONSOLE_INDEX = b"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Back office</title>
    <script type="module" crossorigin src="/console/assets/index-Dwc0mm_W.js"></script>
    <link rel="stylesheet" crossorigin href="/console/assets/index-CyXwvvQN.css">
  </head>
  <body>
    <div id="app"></div>
    <noscript>The back office needs JavaScript.</noscript>
  </body>
</html>
"""


def console_headers(**changes: str | None) -> dict[str, str]:
    """The headers the ConsoleFunction sends with index.html; a None change drops one."""
    headers = {"Content-Security-Policy": CONSOLE_POLICY, "Referrer-Policy": "no-referrer",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
               "ETag": '"4c1f0e2a"'}
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    return headers


PAYMENTS = "/api/v1/payments/callbacks/smoke/stk"
SMS_DELIVERY = "/api/v1/notifications/sms/delivery/smoke"


class Route(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = {}  # besides Content-Type and Content-Length; never mutated


def healthy_routes() -> dict[str, tuple]:
    """path -> (status, content type, body[, headers]) of an API that passes every check."""
    unauthorized = {"type": "about:blank", "title": "Unauthorized", "status": 401,
                    "detail": "missing bearer token"}
    method = {"type": "/problems/method-not-allowed", "title": "Method Not Allowed",
              "status": 405, "detail": "method not allowed on this resource"}
    return {
        "/api/v1/categories/tree": (200, f"{JSON}; charset=utf-8", json.dumps(
            [{"id": "c1", "name": "Phones", "slug": "phones", "level": 0, "children": []}]
        ).encode()),
        "/api/v1/auth/jwks.json": (200, JSON, json.dumps({"keys": [JWK]}).encode()),
        "/api/v1/orders": (401, PROBLEM, json.dumps(unauthorized).encode()),
        PAYMENTS: (405, PROBLEM, json.dumps(method).encode()),
        SMS_DELIVERY: (405, PROBLEM, json.dumps(method).encode()),
        "/console": (200, HTML, CONSOLE_INDEX, console_headers()),
    }


class StandInApi(BaseHTTPRequestHandler):
    routes: dict[str, tuple] = {}
    failures_before_ready = 0  # answer 503 to this many requests first (a fresh deploy)
    requests = 0
    accepts: dict[str, str | None] = {}  # path -> the Accept header of its last request
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        with self.lock:
            type(self).requests += 1
            warming_up = type(self).requests <= self.failures_before_ready
            self.accepts[self.path] = self.headers.get("Accept")
        if warming_up:
            route = Route(503, JSON, b'{"message":"Service Unavailable"}')
        else:
            route = Route(*self.routes.get(self.path, (404, JSON, b'{"message":"Not Found"}')))
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass


class SmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApi)
        cls.server.daemon_threads = True
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base_url = f"http://127.0.0.1:{cls.server.server_address[1]}/"

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join(timeout=5)

    def setUp(self) -> None:
        StandInApi.routes = healthy_routes()
        StandInApi.failures_before_ready = 0
        StandInApi.requests = 0
        StandInApi.accepts = {}

    def run_smoke(self, *extra: str, base_url: str | None = None) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        args = [base_url or self.base_url, "--attempts", "1", "--delay", "0", "--timeout", "2",
                *extra]
        with contextlib.redirect_stderr(err):
            try:
                code = smoke.main(args, out=out)
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code
        return code, out.getvalue() + err.getvalue()

    def assert_only_failure(self, failed_check: str) -> None:
        code, output = self.run_smoke()
        self.assertEqual(code, 1, output)
        for check in smoke.CHECKS:
            verdict = "FAIL" if check.name == failed_check else "PASS"
            self.assertIn(f"{verdict} {check.name}:", output)
        self.assertIn(f"failed ({failed_check})", output)

    def test_healthy_api_passes_with_or_without_trailing_slash(self) -> None:
        for base_url in (self.base_url, self.base_url.rstrip("/")):
            with self.subTest(base_url=base_url):
                code, output = self.run_smoke(base_url=base_url)
                self.assertEqual(code, 0, output)
                self.assertEqual(output.count("PASS "), 6, output)
                self.assertNotIn("FAIL", output)
                self.assertIn("PASS console: GET /console: 200 text/html", output)
                self.assertIn("/console/assets/index-Dwc0mm_W.js", output)

    def test_each_check_sends_its_own_accept_header(self) -> None:
        code, output = self.run_smoke()
        self.assertEqual(code, 0, output)
        self.assertEqual(StandInApi.accepts, {
            "/api/v1/categories/tree": JSON, "/api/v1/auth/jwks.json": JSON,
            "/api/v1/orders": JSON, PAYMENTS: JSON, SMS_DELIVERY: JSON, "/console": HTML})

    def test_category_tree_answering_500_fails(self) -> None:
        StandInApi.routes["/api/v1/categories/tree"] = (
            500, PROBLEM, b'{"title":"Internal Server Error","status":500}')
        self.assert_only_failure("categories-tree")

    def test_category_tree_that_is_not_json_fails(self) -> None:
        StandInApi.routes["/api/v1/categories/tree"] = (200, "text/html", b"<html></html>")
        self.assert_only_failure("categories-tree")

    def test_jwks_without_keys_fails(self) -> None:
        for body in ({"keys": []}, {}, {"keys": [{"kty": "EC"}]}, []):
            with self.subTest(body=body):
                StandInApi.routes["/api/v1/auth/jwks.json"] = (200, JSON, json.dumps(body).encode())
                self.assert_only_failure("jwks")

    def test_jwks_publishing_a_private_key_fails(self) -> None:
        leaked = dict(JWK, d="jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")
        StandInApi.routes["/api/v1/auth/jwks.json"] = (
            200, JSON, json.dumps({"keys": [leaked]}).encode())
        self.assert_only_failure("jwks")

    def test_orders_answering_200_without_a_token_fails(self) -> None:
        StandInApi.routes["/api/v1/orders"] = (200, JSON, b'{"items":[],"next_cursor":null}')
        self.assert_only_failure("orders-requires-auth")

    def test_orders_401_as_text_plain_fails(self) -> None:
        # The same problem document: only the content type is wrong.
        _, _, problem = healthy_routes()["/api/v1/orders"]
        for content_type in ("text/plain", JSON):
            with self.subTest(content_type=content_type):
                StandInApi.routes["/api/v1/orders"] = (401, content_type, problem)
                self.assert_only_failure("orders-requires-auth")

    def test_orders_401_problem_with_another_status_fails(self) -> None:
        StandInApi.routes["/api/v1/orders"] = (401, PROBLEM, b'{"status":403}')
        self.assert_only_failure("orders-requires-auth")

    def test_payments_function_not_answering_its_405_fails(self) -> None:
        cases = {
            # API Gateway's answers: the routes not deployed, the function failing to start
            # (its M-Pesa configuration missing or invalid).
            "routes missing": (404, JSON, b'{"message":"Not Found"}'),
            "function failing": (500, JSON, b'{"message":"Internal Server Error"}'),
            "not a problem": (405, JSON, b'{"status":405}'),
            "another status": (405, PROBLEM, b'{"status":404}'),
            "answering a GET": (200, JSON, b'{"ResultCode":0,"ResultDesc":"Accepted"}'),
        }
        for case, route in cases.items():
            with self.subTest(case):
                StandInApi.routes[PAYMENTS] = route
                self.assert_only_failure("payments-callbacks")

    def test_sms_delivery_function_not_answering_its_405_fails(self) -> None:
        cases = {
            # API Gateway's answers: the route not deployed, the function failing to start
            # (its SMS_DELIVERY_TOKEN missing or too short).
            "route missing": (404, JSON, b'{"message":"Not Found"}'),
            "function failing": (500, JSON, b'{"message":"Internal Server Error"}'),
            "not a problem": (405, JSON, b'{"status":405}'),
            "another status": (405, PROBLEM, b'{"status":404}'),
            "answering a GET": (200, JSON, b'{"delivery":null}'),
        }
        for case, route in cases.items():
            with self.subTest(case):
                StandInApi.routes[SMS_DELIVERY] = route
                self.assert_only_failure("sms-delivery")

    def test_console_missing_fails(self) -> None:
        # API Gateway's answer when the console's routes were not deployed.
        del StandInApi.routes["/console"]
        self.assert_only_failure("console")

    def test_console_without_a_policy_fails(self) -> None:
        StandInApi.routes["/console"] = (
            200, HTML, CONSOLE_INDEX, console_headers(Content_Security_Policy=None))
        self.assert_only_failure("console")

    def test_console_policy_without_trusted_types_fails(self) -> None:
        policy = CONSOLE_POLICY.replace("require-trusted-types-for 'script'; ", "")
        self.assertNotEqual(policy, CONSOLE_POLICY)
        StandInApi.routes["/console"] = (
            200, HTML, CONSOLE_INDEX, console_headers(Content_Security_Policy=policy))
        self.assert_only_failure("console")

    def test_console_policy_otherwise_weakened_fails(self) -> None:
        for old, new in (("frame-ancestors 'none'; ", ""),
                         ("frame-ancestors 'none'", "frame-ancestors 'self'"),
                         ("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
                         ("script-src 'self'", "script-src 'self' 'unsafe-eval'")):
            with self.subTest(old=old, new=new):
                policy = CONSOLE_POLICY.replace(old, new)
                self.assertNotEqual(policy, CONSOLE_POLICY)
                StandInApi.routes["/console"] = (
                    200, HTML, CONSOLE_INDEX, console_headers(Content_Security_Policy=policy))
                self.assert_only_failure("console")

    def test_console_page_without_its_script_fails(self) -> None:
        # The unbuilt index.html (the dev server's entry), and a page with no script at all.
        unbuilt = CONSOLE_INDEX.replace(b"/console/assets/index-Dwc0mm_W.js", b"/src/main.tsx")
        for body in (unbuilt, b"<!doctype html><title>Back office</title>"):
            with self.subTest(body=body[:40]):
                StandInApi.routes["/console"] = (200, HTML, body, console_headers())
                self.assert_only_failure("console")

    def test_a_fresh_api_is_retried_until_it_answers(self) -> None:
        StandInApi.failures_before_ready = 2
        code, output = self.run_smoke("--attempts", "3")
        self.assertEqual(code, 0, output)
        StandInApi.requests = 0
        code, output = self.run_smoke("--attempts", "2")  # 2 x 503 on the first check
        self.assertEqual(code, 1, output)
        self.assertIn("FAIL categories-tree: GET /api/v1/categories/tree: 503", output)
        self.assertIn("(after 2 attempt(s))", output)

    def test_unreachable_api_fails_every_check(self) -> None:
        with socket.socket() as probe:  # a port nothing listens on once closed
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        code, output = self.run_smoke(base_url=f"http://127.0.0.1:{port}")
        self.assertEqual(code, 1, output)
        self.assertEqual(output.count("FAIL "), 6, output)
        self.assertIn("no answer", output)

    def test_a_base_url_that_is_not_http_is_a_usage_error(self) -> None:
        code, output = self.run_smoke(base_url="abc.execute-api.af-south-1.amazonaws.com")
        self.assertEqual(code, 2, output)


if __name__ == "__main__":
    unittest.main()
