"""Tests of infra/deploy/smoke.py against a local stand-in of the deployed API.

    python3 -m unittest discover -s infra/deploy/tests -t . -p 'test_smoke*.py'

Invariants: standard library only; nothing leaves 127.0.0.1 (a ThreadingHTTPServer on an
ephemeral port); smoke.py is loaded by path, so no package layout or sys.path is assumed;
one attempt with no delay per check (except the retry test), so the suite runs in about a
second. Each broken variant breaks exactly one check, and the smoke test must fail naming
that check while the other two still pass.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import socket
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SMOKE_PATH = Path(__file__).resolve().parents[1] / "smoke.py"
_spec = importlib.util.spec_from_file_location("order_system_smoke", SMOKE_PATH)
smoke = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = smoke
_spec.loader.exec_module(smoke)

JSON = "application/json"
PROBLEM = "application/problem+json"
JWK = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
       "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "order-system-1",
       "alg": "ES256", "use": "sig"}


def healthy_routes() -> dict[str, tuple[int, str, bytes]]:
    """path -> (status, content type, body) of an API that passes every check."""
    unauthorized = {"type": "about:blank", "title": "Unauthorized", "status": 401,
                    "detail": "missing bearer token"}
    return {
        "/api/v1/categories/tree": (200, f"{JSON}; charset=utf-8", json.dumps(
            [{"id": "c1", "name": "Phones", "slug": "phones", "level": 0, "children": []}]
        ).encode()),
        "/api/v1/auth/jwks.json": (200, JSON, json.dumps({"keys": [JWK]}).encode()),
        "/api/v1/orders": (401, PROBLEM, json.dumps(unauthorized).encode()),
    }


class StandInApi(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}
    failures_before_ready = 0  # answer 503 to this many requests first (a fresh deploy)
    requests = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        with self.lock:
            type(self).requests += 1
            warming_up = type(self).requests <= self.failures_before_ready
        if warming_up:
            status, content_type, body = 503, JSON, b'{"message":"Service Unavailable"}'
        else:
            status, content_type, body = self.routes.get(
                self.path, (404, JSON, b'{"message":"Not Found"}'))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
                self.assertEqual(output.count("PASS "), 3, output)
                self.assertNotIn("FAIL", output)

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
        self.assertEqual(output.count("FAIL "), 3, output)
        self.assertIn("no answer", output)

    def test_a_base_url_that_is_not_http_is_a_usage_error(self) -> None:
        code, output = self.run_smoke(base_url="abc.execute-api.af-south-1.amazonaws.com")
        self.assertEqual(code, 2, output)


if __name__ == "__main__":
    unittest.main()
