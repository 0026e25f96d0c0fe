"""bootstrap_environment.py against moto (in-process, on a free port of 127.0.0.1).

Run from the repository root:
    .venv/bin/python -m unittest discover -s infra/deploy/tests -t . -p 'test_bootstrap*'
"""

import base64
import contextlib
import importlib.util
import io
import json
import logging
import os
import re
import sys
import unittest
import urllib.request
from datetime import timedelta
from pathlib import Path
from unittest import mock

import boto3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "infra" / "deploy" / "bootstrap_environment.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bootstrap_environment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bootstrap = load_script()

REGION = "af-south-1"
GOOGLE_SECRET = "GOCSPX-test-google-secret-4f1c9a"
AT_KEY = "atsk_test_africastalking_key_93b2e7"
# Daraja's credentials, by the environment variable the script reads them from.
DARAJA = {
    "DARAJA_CONSUMER_KEY": "test-daraja-consumer-key-5b1e",
    "DARAJA_CONSUMER_SECRET": "test-daraja-consumer-secret-c07d",
    "DARAJA_PASSKEY": "test-daraja-passkey-bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
    "DARAJA_SECURITY_CREDENTIAL": "dGVzdC1zZWN1cml0eS1jcmVkZW50aWFs+/8=",
}
MPESA_SECRETS = {
    "mpesa-consumer-key": "DARAJA_CONSUMER_KEY",
    "mpesa-consumer-secret": "DARAJA_CONSUMER_SECRET",
    "mpesa-passkey": "DARAJA_PASSKEY",
    "mpesa-security-credential": "DARAJA_SECURITY_CREDENTIAL",
}
MPESA_PARAMS = ("mpesa-shortcode", "mpesa-initiator-name", "mpesa-callback-base-url")
CALLBACK_BASE = "https://api.shop.example/api/v1/payments/callbacks"
# Where Africa's Talking posts delivery reports: the API's domain (M-Pesa's), the token
# named by its secret.
SMS_DELIVERY_URL = (
    "https://api.shop.example/api/v1/notifications/sms/delivery/"
    "<order-system/{stage}/sms-delivery-token>"
)
SECRET_NAMES = (
    "jwt-private-key",
    "google-client-secret",
    "africastalking-api-key",
    *MPESA_SECRETS,
    "mpesa-callback-token",
    "sms-delivery-token",
)
PARAM_NAMES = (
    "jwt-key-id",
    "jwt-public-jwks",
    "google-client-id",
    "auth-redirect-uris",
    "admin-emails",
    "order-email-from",
    "order-email-to",
    "alarm-email",
    "africastalking-username",
    "web-origin",
    *MPESA_PARAMS,
)


def mpesa_values(stage="prod"):
    return {
        "mpesa-shortcode": "4071234" if stage == "prod" else "174379",
        "mpesa-initiator-name": "shopapi" if stage == "prod" else "testapi",
        "mpesa-callback-base-url": CALLBACK_BASE,
    }


def init_args(stage="prod", **overrides):
    values = {
        "google-client-id": "1234-abc.apps.googleusercontent.com",
        "auth-redirect-uris": "https://shop.example/api/v1/auth/google/callback,"
        "https://admin.shop.example/callback",
        "admin-emails": "Owner@shop.example, ops@shop.example",
        "order-email-from": "orders@shop.example",
        "order-email-to": "owner@shop.example",
        "alarm-email": "alarms@shop.example",
        "africastalking-username": "shopapp" if stage == "prod" else "sandbox",
        "web-origin": "https://shop.example",
        **mpesa_values(stage),
    }
    values.update(overrides)
    args = ["--stage", stage, "--region", REGION, "init"]
    for name, value in values.items():
        args += [f"--{name}", value]
    return args


def b64url_int(text):
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_es256(pem, kid, claims):
    """A compact JWS (ES256) signed with a PKCS#8 PEM key."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    header = {"alg": "ES256", "typ": "JWT", "kid": kid}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def verify_es256(token, jwks):
    """True when a key of the JWK Set named by the token's kid verifies its signature."""
    header_b64, payload_b64, sig_b64 = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    jwk = next((k for k in jwks["keys"] if k["kid"] == header["kid"]), None)
    if jwk is None:
        return False
    public = ec.EllipticCurvePublicNumbers(
        b64url_int(jwk["x"]), b64url_int(jwk["y"]), ec.SECP256R1()
    ).public_key()
    raw = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


class BootstrapEnvironmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        cls.endpoint = f"http://{host}:{port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        ).read()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.pop("GOOGLE_CLIENT_SECRET", None)
        env.pop("AFRICASTALKING_API_KEY", None)
        for variable in DARAJA:
            env.pop(variable, None)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,  # only through the environment, as users would
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            GOOGLE_CLIENT_SECRET=GOOGLE_SECRET,
            AFRICASTALKING_API_KEY=AT_KEY,
            **DARAJA,
        )
        patches = [
            mock.patch.dict(os.environ, env, clear=True),
            # Not a terminal: the script must never prompt during the tests.
            mock.patch("sys.stdin", io.StringIO("")),
        ]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)
        self.ssm = boto3.client("ssm", region_name=REGION)
        self.sm = boto3.client("secretsmanager", region_name=REGION)

    # --- helpers ---

    def run_script(self, *argv, now=None):
        out, err = io.StringIO(), io.StringIO()
        clock = mock.patch.object(bootstrap, "utc_now", return_value=now) if now else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with clock or contextlib.nullcontext():
                try:
                    code = bootstrap.main(list(argv))
                except SystemExit as exit:  # argparse
                    code = exit.code
        return code, out.getvalue(), err.getvalue()

    def rotate(self, phase, stage="prod", *extra, now=None):
        return self.run_script(
            "--stage", stage, "--region", REGION, "rotate-jwt-key", "--phase", phase, *extra,
            now=now,
        )

    def init_ok(self, stage="prod", **overrides):
        code, out, err = self.run_script(*init_args(stage, **overrides))
        self.assertEqual(code, 0, err)
        return out

    def param(self, stage, name):
        return self.ssm.get_parameter(Name=f"/order-system/{stage}/{name}")["Parameter"]

    def secret(self, stage, name):
        return self.sm.get_secret_value(SecretId=f"order-system/{stage}/{name}")["SecretString"]

    def secret_exists(self, stage, name):
        try:
            self.sm.describe_secret(SecretId=f"order-system/{stage}/{name}")
            return True
        except self.sm.exceptions.ResourceNotFoundException:
            return False

    def jwks(self, stage="prod"):
        return json.loads(self.param(stage, "jwt-public-jwks")["Value"])

    def kids(self, stage="prod"):
        return [k["kid"] for k in self.jwks(stage)["keys"]]

    def assert_nothing_written(self):
        self.assertEqual(self.ssm.describe_parameters()["Parameters"], [])
        self.assertEqual(self.sm.list_secrets()["SecretList"], [])

    def assert_key_matches_jwk(self, pem, jwk):
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        numbers = key.public_key().public_numbers()
        self.assertEqual((b64url_int(jwk["x"]), b64url_int(jwk["y"])), (numbers.x, numbers.y))

    # --- tests ---

    def test_boto3_honours_aws_endpoint_url(self):
        session = bootstrap.make_session(REGION)
        self.assertEqual(session.client("ssm").meta.endpoint_url, self.endpoint)
        self.assertEqual(session.client("secretsmanager").meta.endpoint_url, self.endpoint)

    def test_init_creates_every_name_with_valid_values(self):
        out = self.init_ok()

        self.assertEqual(self.secret("prod", "google-client-secret"), GOOGLE_SECRET)
        self.assertEqual(self.secret("prod", "africastalking-api-key"), AT_KEY)
        for name, variable in MPESA_SECRETS.items():
            self.assertEqual(self.secret("prod", name), DARAJA[variable], name)
        # Generated: letters and digits only (the payments function's rule), 32 or more,
        # and nothing Safaricom refuses in a callback URL.
        token = self.secret("prod", "mpesa-callback-token")
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        # The delivery reports' token, generated the same way (the function's rule: 32 or
        # more letters and digits), and not the callback token.
        sms_token = self.secret("prod", "sms-delivery-token")
        self.assertRegex(sms_token, r"^[0-9a-f]{64}$")
        self.assertNotEqual(sms_token, token)
        pem = self.secret("prod", "jwt-private-key")
        self.assertTrue(pem.startswith("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 PEM")
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        self.assertIsInstance(key, ec.EllipticCurvePrivateKey)
        self.assertEqual(key.curve.name, "secp256r1")
        self.assertFalse(self.secret_exists("prod", "jwt-private-key-next"))

        kid = self.param("prod", "jwt-key-id")["Value"]
        self.assertRegex(kid, r"^prod-\d{14}$")
        jwks_text = self.param("prod", "jwt-public-jwks")["Value"]
        self.assertNotIn("\n", jwks_text)
        jwks = json.loads(jwks_text)
        self.assertEqual(len(jwks["keys"]), 1)
        jwk = jwks["keys"][0]
        self.assertEqual(
            jwk, {**jwk, "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256"}
        )
        self.assertEqual(set(jwk), {"kty", "crv", "x", "y", "kid", "use", "alg"}, "public only")
        for coordinate in ("x", "y"):
            self.assertEqual(len(base64.urlsafe_b64decode(jwk[coordinate] + "=")), 32)
        self.assert_key_matches_jwk(pem, jwk)

        expected = {
            "google-client-id": "1234-abc.apps.googleusercontent.com",
            # The console's callback joins the API's, on the API's origin.
            "auth-redirect-uris": "https://shop.example/api/v1/auth/google/callback,"
            "https://admin.shop.example/callback,https://shop.example/console/callback",
            "admin-emails": "Owner@shop.example,ops@shop.example",
            "order-email-from": "orders@shop.example",
            "order-email-to": "owner@shop.example",
            "alarm-email": "alarms@shop.example",
            "africastalking-username": "shopapp",
            "web-origin": "https://shop.example",
            "mpesa-shortcode": "4071234",
            "mpesa-initiator-name": "shopapi",
            "mpesa-callback-base-url": CALLBACK_BASE,
        }
        for name, value in expected.items():
            self.assertEqual(self.param("prod", name)["Value"], value, name)
        for name in PARAM_NAMES:
            expected_type = "String"
            self.assertEqual(self.param("prod", name)["Type"], expected_type, name)
            tags = self.ssm.list_tags_for_resource(
                ResourceType="Parameter", ResourceId=f"/order-system/prod/{name}"
            )["TagList"]
            self.assertEqual(
                {t["Key"]: t["Value"] for t in tags},
                {"project": "order-system", "stage": "prod"},
                name,
            )
        for name in SECRET_NAMES:
            tags = self.sm.describe_secret(SecretId=f"order-system/prod/{name}")["Tags"]
            self.assertEqual(
                {t["Key"]: t["Value"] for t in tags},
                {"project": "order-system", "stage": "prod"},
                name,
            )

        for secret in (GOOGLE_SECRET, AT_KEY, *DARAJA.values(), token, sms_token,
                       pem.splitlines()[1], "PRIVATE KEY"):
            self.assertNotIn(secret, out)
        # The C2B URLs to register name the token's secret, never its value; so does the
        # Delivery Reports URL to set in Africa's Talking's dashboard.
        self.assertIn(f"{CALLBACK_BASE}/<order-system/prod/mpesa-callback-token>/c2b/confirmation", out)
        self.assertIn(SMS_DELIVERY_URL.format(stage="prod"), out)

    def test_a_token_signed_with_the_stored_key_verifies_with_the_jwks(self):
        self.init_ok()
        kid = self.param("prod", "jwt-key-id")["Value"]
        token = sign_es256(self.secret("prod", "jwt-private-key"), kid, {"sub": "c1"})
        self.assertTrue(verify_es256(token, self.jwks()))
        other = bootstrap.generate_private_pem()
        self.assertFalse(verify_es256(sign_es256(other, kid, {"sub": "c1"}), self.jwks()))

    def test_dev_accepts_http_localhost_and_staging_does_not(self):
        local = {
            "auth-redirect-uris": "http://localhost:9000/api/v1/auth/google/callback",
            "web-origin": "http://localhost:5173",
        }
        self.init_ok("dev", **local)
        self.assertEqual(
            self.param("dev", "web-origin")["Value"],
            "http://localhost:5173",
        )
        code, _, err = self.run_script(*init_args("staging", **local))
        self.assertEqual(code, 2)
        self.assertIn("must use https on staging", err)
        self.assertFalse(self.secret_exists("staging", "jwt-private-key"))

    def test_the_console_callback_is_allowed_wherever_the_api_signs_in(self):
        cases = {
            "prod": (
                "https://api.shop.example/api/v1/auth/google/callback",
                "https://api.shop.example/api/v1/auth/google/callback,"
                "https://api.shop.example/console/callback",
            ),
            "staging": (
                "https://staging.shop.example/api/v1/auth/google/callback,"
                "https://staging.shop.example/console/callback",
                "https://staging.shop.example/api/v1/auth/google/callback,"
                "https://staging.shop.example/console/callback",
            ),
            "dev": (
                "http://localhost:9000/api/v1/auth/google/callback,"
                "http://127.0.0.1:9000/api/v1/auth/google/callback",
                "http://localhost:9000/api/v1/auth/google/callback,"
                "http://127.0.0.1:9000/api/v1/auth/google/callback,"
                "http://localhost:9000/console/callback,http://127.0.0.1:9000/console/callback",
            ),
        }
        for stage, (given, stored) in cases.items():
            with self.subTest(stage=stage):
                self.init_ok(stage, **{"auth-redirect-uris": given})
                self.assertEqual(self.param(stage, "auth-redirect-uris")["Value"], stored)

    def test_bad_input_writes_nothing(self):
        cases = {
            "bad email": (init_args(**{"admin-emails": "owner@shop.example,not-an-email"}),
                          "--admin-emails"),
            "http redirect on prod": (
                init_args(**{"auth-redirect-uris": "http://shop.example/callback"}),
                "--auth-redirect-uris",
            ),
            "origin with a path": (
                init_args(**{"web-origin": "https://shop.example/"}),
                "--web-origin",
            ),
            "two origins": (
                init_args(**{"web-origin": "https://shop.example,https://admin.shop.example"}),
                "--web-origin",
            ),
            "sandbox on prod": (init_args(**{"africastalking-username": "sandbox"}),
                                "--africastalking-username"),
            "empty client id": (init_args(**{"google-client-id": " "}), "--google-client-id"),
            "sandbox Paybill on prod": (init_args(**{"mpesa-shortcode": "174379"}),
                                        "--mpesa-shortcode"),
            "Paybill not digits": (init_args(**{"mpesa-shortcode": "40712a4"}), "--mpesa-shortcode"),
            "sandbox initiator on prod": (init_args(**{"mpesa-initiator-name": "testapi"}),
                                          "--mpesa-initiator-name"),
        }
        # Safaricom refuses these callback URLs (or cannot reach them).
        refused_callbacks = [
            "https://abc123.execute-api.af-south-1.amazonaws.com/api/v1/payments/callbacks",
            "https://mpesa.shop.example/api/v1/payments/callbacks",
            "https://pay.shop.example/M-PESA/api/v1/payments/callbacks",
            "https://safaricom-pay.shop.example/api/v1/payments/callbacks",
            "https://api.shop.example/Query/api/v1/payments/callbacks",
            "https://sqlshop.example/api/v1/payments/callbacks",
            "https://cmd.shop.example/api/v1/payments/callbacks",
            "https://EXEC.shop.example/api/v1/payments/callbacks",
            "http://api.shop.example/api/v1/payments/callbacks",
            "https://localhost/api/v1/payments/callbacks",
            "https://api.shop.example/api/v1/payments",
            "https://api.shop.example/api/v1/payments/callbacks?x=1",
            "https://user@api.shop.example/api/v1/payments/callbacks",
            "api.shop.example/api/v1/payments/callbacks",
        ]
        for url in refused_callbacks:
            cases[f"callback {url}"] = (
                init_args(**{"mpesa-callback-base-url": url}), "--mpesa-callback-base-url"
            )
        cases["http callback on dev too"] = (
            init_args("dev", **{"mpesa-callback-base-url": "http://localhost:9000/api/v1/payments/callbacks"}),
            "--mpesa-callback-base-url",
        )
        for case, (argv, flag) in cases.items():
            with self.subTest(case):
                code, out, err = self.run_script(*argv)
                self.assertEqual(code, 2, err)
                self.assertIn(flag, err)
                self.assertIn("nothing written", err)
                self.assert_nothing_written()

        for variable in ("GOOGLE_CLIENT_SECRET", "AFRICASTALKING_API_KEY", *DARAJA):
            with self.subTest(f"{variable} missing, stdin not a terminal"):
                with mock.patch.dict(os.environ):
                    del os.environ[variable]
                    with mock.patch("getpass.getpass", side_effect=AssertionError("prompted")):
                        code, _, err = self.run_script(*init_args())
                self.assertEqual(code, 2, err)
                self.assertIn(f"{variable} is not set", err)
                self.assert_nothing_written()

        with self.subTest("secret with whitespace is refused without echoing it"):
            with mock.patch.dict(os.environ, GOOGLE_CLIENT_SECRET="two words"):
                code, out, err = self.run_script(*init_args())
            self.assertEqual(code, 2)
            self.assertNotIn("two words", out + err)
            self.assert_nothing_written()

    def test_second_init_refuses_without_overwrite_and_keeps_the_key(self):
        self.init_ok()
        kid = self.param("prod", "jwt-key-id")["Value"]
        pem = self.secret("prod", "jwt-private-key")

        code, _, err = self.run_script(*init_args(**{"admin-emails": "new@shop.example"}))
        self.assertEqual(code, 1)
        self.assertIn("--overwrite", err)
        self.assertIn("order-system/prod/jwt-private-key", err)
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), pem)
        self.assertEqual(
            self.param("prod", "admin-emails")["Value"], "Owner@shop.example,ops@shop.example"
        )

        # --overwrite replaces everything, the signing key included, and drops a rotation
        # under way (its pending key would not be in the new JWK Set).
        self.assertEqual(self.rotate("add")[0], 0)
        argv = init_args(**{"admin-emails": "new@shop.example"})
        code, _, err = self.run_script(*argv, "--overwrite")
        self.assertEqual(code, 0, err)
        self.assertFalse(self.secret_exists("prod", "jwt-private-key-next"))
        self.assertEqual(self.param("prod", "admin-emails")["Value"], "new@shop.example")
        new_pem = self.secret("prod", "jwt-private-key")
        self.assertNotEqual(new_pem, pem)
        self.assertEqual(self.kids(), [self.param("prod", "jwt-key-id")["Value"]])
        self.assert_key_matches_jwk(new_pem, self.jwks()["keys"][0])
        tags = self.ssm.list_tags_for_resource(
            ResourceType="Parameter", ResourceId="/order-system/prod/admin-emails"
        )["TagList"]
        self.assertIn({"Key": "stage", "Value": "prod"}, tags)

    def test_rotation_phases_in_order_and_refused_out_of_order(self):
        self.init_ok()
        old_kid = self.param("prod", "jwt-key-id")["Value"]
        old_pem = self.secret("prod", "jwt-private-key")
        old_token = sign_es256(old_pem, old_kid, {"sub": "c1"})

        for phase in ("promote", "retire"):
            with self.subTest(f"{phase} before add"):
                code, _, err = self.rotate(phase)
                self.assertEqual(code, 1, err)
                self.assertIn("refused", err)
        self.assertEqual(self.kids(), [old_kid])

        # add: new public key published, current key untouched, private key pending.
        code, out, err = self.rotate("add")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], old_kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), old_pem)
        kids = self.kids()
        self.assertEqual(kids[0], old_kid)
        self.assertEqual(len(kids), 2)
        new_kid = kids[1]
        self.assertRegex(new_kid, r"^prod-\d{14}(-\d+)?$")
        new_pem = self.secret("prod", "jwt-private-key-next")
        self.assert_key_matches_jwk(new_pem, self.jwks()["keys"][1])
        self.assertNotIn(new_pem.splitlines()[1], out)
        for phase in ("add", "retire"):
            with self.subTest(f"{phase} after add"):
                code, _, err = self.rotate(phase)
                self.assertEqual(code, 1, err)
        self.assertEqual(self.kids(), kids)

        # promote: the pending key becomes current; both stay published.
        code, out, err = self.rotate("promote")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], new_kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), new_pem)
        self.assertFalse(self.secret_exists("prod", "jwt-private-key-next"))
        self.assertEqual(self.kids(), [new_kid, old_kid])
        self.assertTrue(verify_es256(old_token, self.jwks()))
        for phase in ("add", "promote"):
            with self.subTest(f"{phase} after promote"):
                code, _, err = self.rotate(phase)
                self.assertEqual(code, 1, err)
        self.assertEqual(self.kids(), [new_kid, old_kid])

        # retire: refused within the token lifetime, done after it.
        code, out, err = self.rotate("retire")
        self.assertEqual(code, 1, err)
        self.assertIn("86400 s", out)
        self.assertIn("--force", err)
        self.assertEqual(self.kids(), [new_kid, old_kid])
        later = bootstrap.utc_now() + timedelta(hours=24, seconds=31)
        code, out, err = self.rotate("retire", now=later)
        self.assertEqual(code, 0, err)
        jwks = self.jwks()
        self.assertEqual([k["kid"] for k in jwks["keys"]], [new_kid])
        self.assert_key_matches_jwk(self.secret("prod", "jwt-private-key"), jwks["keys"][0])
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], new_kid)
        self.assertFalse(verify_es256(old_token, jwks))
        self.assertTrue(verify_es256(sign_es256(new_pem, new_kid, {"sub": "c1"}), jwks))
        code, _, err = self.rotate("retire", now=later)
        self.assertEqual(code, 1, err)

        # A second rotation starts from the steady state again (pending name reusable).
        code, _, err = self.rotate("add")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(self.kids()), 2)

    def test_promote_resumes_after_a_partial_failure(self):
        self.init_ok()
        self.assertEqual(self.rotate("add")[0], 0)
        new_pem = self.secret("prod", "jwt-private-key-next")
        new_kid = self.kids()[1]
        with mock.patch.object(bootstrap.Store, "delete_secret", side_effect=RuntimeError("x")):
            with self.assertRaises(RuntimeError):
                self.rotate("promote")
        code, _, err = self.rotate("promote")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], new_kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), new_pem)
        self.assertFalse(self.secret_exists("prod", "jwt-private-key-next"))

    def init_mpesa(self, stage="prod", *extra, **overrides):
        values = {**mpesa_values(stage), **overrides}
        argv = ["--stage", stage, "--region", REGION, "init-mpesa"]
        for name, value in values.items():
            argv += [f"--{name}", value]
        return self.run_script(*argv, *extra)

    def forget_mpesa(self, stage="prod"):
        """The stage as it was set up before M-Pesa existed."""
        for name in (*MPESA_SECRETS, "mpesa-callback-token"):
            self.sm.delete_secret(
                SecretId=f"order-system/{stage}/{name}", ForceDeleteWithoutRecovery=True
            )
        for name in MPESA_PARAMS:
            self.ssm.delete_parameter(Name=f"/order-system/{stage}/{name}")

    def test_init_mpesa_adds_only_mpesa_to_an_environment_set_up_before_it(self):
        self.init_ok()
        self.forget_mpesa()
        kid = self.param("prod", "jwt-key-id")["Value"]
        pem = self.secret("prod", "jwt-private-key")
        sms_token = self.secret("prod", "sms-delivery-token")
        admins = self.param("prod", "admin-emails")

        # Bad input writes nothing, as for init.
        code, _, err = self.init_mpesa(
            **{"mpesa-callback-base-url": "https://x.execute-api.af-south-1.amazonaws.com/api/v1/payments/callbacks"}
        )
        self.assertEqual(code, 2, err)
        self.assertIn("nothing written", err)
        self.assertFalse(self.secret_exists("prod", "mpesa-passkey"))
        self.assertFalse(self.secret_exists("prod", "mpesa-callback-token"))

        # A custom domain's base path, and a trailing slash, are fine.
        base = "https://shop.example/backend/api/v1/payments/callbacks"
        code, out, err = self.init_mpesa(**{"mpesa-callback-base-url": base + "/"})
        self.assertEqual(code, 0, err)
        for name, variable in MPESA_SECRETS.items():
            self.assertEqual(self.secret("prod", name), DARAJA[variable], name)
            tags = self.sm.describe_secret(SecretId=f"order-system/prod/{name}")["Tags"]
            self.assertIn({"Key": "stage", "Value": "prod"}, tags)
        token = self.secret("prod", "mpesa-callback-token")
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        self.assertEqual(self.param("prod", "mpesa-callback-base-url")["Value"], base)
        self.assertEqual(self.param("prod", "mpesa-shortcode")["Value"], "4071234")
        for secret in (*DARAJA.values(), token):
            self.assertNotIn(secret, out + err)
        # Nothing else changed: the signing key above all (no one is signed out).
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), pem)
        self.assertEqual(self.secret("prod", "sms-delivery-token"), sms_token)
        self.assertEqual(self.param("prod", "admin-emails")["Version"], admins["Version"])

        # A second run refuses without --overwrite.
        code, _, err = self.init_mpesa(**{"mpesa-shortcode": "4079999"})
        self.assertEqual(code, 1, err)
        self.assertIn("--overwrite", err)
        self.assertIn("/order-system/prod/mpesa-shortcode", err)
        self.assertEqual(self.param("prod", "mpesa-shortcode")["Value"], "4071234")

    def test_overwrite_keeps_the_callback_token(self):
        self.init_ok()
        token = self.secret("prod", "mpesa-callback-token")
        sms_token = self.secret("prod", "sms-delivery-token")
        rotated = {**DARAJA, "DARAJA_PASSKEY": "a-new-passkey-0000"}
        with mock.patch.dict(os.environ, rotated):
            code, out, err = self.init_mpesa("prod", "--overwrite", **{"mpesa-shortcode": "4079999"})
        self.assertEqual(code, 0, err)
        self.assertIn("Kept the existing M-Pesa callback token", out)
        self.assertEqual(self.param("prod", "mpesa-shortcode")["Value"], "4079999")
        self.assertEqual(self.secret("prod", "mpesa-passkey"), "a-new-passkey-0000")
        self.assertEqual(self.secret("prod", "mpesa-callback-token"), token)

        code, out, err = self.run_script(*init_args(), "--overwrite")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.secret("prod", "mpesa-callback-token"), token)
        self.assertEqual(self.param("prod", "mpesa-shortcode")["Value"], "4071234")
        # The delivery reports' token too: the dashboard's Delivery Reports URL holds it.
        self.assertIn("Kept the existing SMS delivery-report token", out)
        self.assertEqual(self.secret("prod", "sms-delivery-token"), sms_token)
        self.assertIn(SMS_DELIVERY_URL.format(stage="prod"), out)

        # Each stage has its own tokens.
        self.init_ok("staging")
        self.assertNotEqual(self.secret("staging", "mpesa-callback-token"), token)
        self.assertNotEqual(self.secret("staging", "sms-delivery-token"), sms_token)

    def init_sms_delivery(self, stage="prod"):
        return self.run_script("--stage", stage, "--region", REGION, "init-sms-delivery")

    def test_init_sms_delivery_adds_only_its_token_and_keeps_it(self):
        self.init_ok()
        self.sm.delete_secret(
            SecretId="order-system/prod/sms-delivery-token", ForceDeleteWithoutRecovery=True
        )
        kid = self.param("prod", "jwt-key-id")["Value"]
        pem = self.secret("prod", "jwt-private-key")
        callback_token = self.secret("prod", "mpesa-callback-token")
        admins = self.param("prod", "admin-emails")

        code, out, err = self.init_sms_delivery()
        self.assertEqual(code, 0, err)
        token = self.secret("prod", "sms-delivery-token")
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        tags = self.sm.describe_secret(SecretId="order-system/prod/sms-delivery-token")["Tags"]
        self.assertEqual(
            {t["Key"]: t["Value"] for t in tags}, {"project": "order-system", "stage": "prod"}
        )
        self.assertNotIn(token, out + err)
        # The URL on the API's domain, read from the stored M-Pesa callback base URL.
        self.assertIn(SMS_DELIVERY_URL.format(stage="prod"), out)
        # Nothing else changed.
        self.assertEqual(self.param("prod", "jwt-key-id")["Value"], kid)
        self.assertEqual(self.secret("prod", "jwt-private-key"), pem)
        self.assertEqual(self.secret("prod", "mpesa-callback-token"), callback_token)
        self.assertEqual(self.param("prod", "admin-emails")["Version"], admins["Version"])

        # Again: the token is kept, and the URL to set is repeated.
        code, out, err = self.init_sms_delivery()
        self.assertEqual(code, 0, err)
        self.assertIn("Kept the existing SMS delivery-report token", out)
        self.assertEqual(self.secret("prod", "sms-delivery-token"), token)
        self.assertIn(SMS_DELIVERY_URL.format(stage="prod"), out)

    def test_init_sms_delivery_without_mpesa_names_the_domain_to_use(self):
        code, out, err = self.init_sms_delivery("staging")
        self.assertEqual(code, 0, err)
        self.assertRegex(self.secret("staging", "sms-delivery-token"), r"^[0-9a-f]{64}$")
        self.assertIn(
            "https://<the API's custom domain>/api/v1/notifications/sms/delivery/"
            "<order-system/staging/sms-delivery-token>",
            out,
        )
        self.assertEqual(self.ssm.describe_parameters()["Parameters"], [])

    def test_show_never_prints_secret_values(self):
        self.init_ok()
        self.assertEqual(self.rotate("add")[0], 0)
        code, out, err = self.run_script("--stage", "prod", "--region", REGION, "show")
        self.assertEqual(code, 0, err)
        secrets = [
            GOOGLE_SECRET,
            AT_KEY,
            *DARAJA.values(),
            self.secret("prod", "mpesa-callback-token"),
            self.secret("prod", "sms-delivery-token"),
            *self.secret("prod", "jwt-private-key").splitlines()[1:-1],
            *self.secret("prod", "jwt-private-key-next").splitlines()[1:-1],
            "PRIVATE KEY",
        ]
        for secret in secrets:
            self.assertNotIn(secret, out + err)
        for name in SECRET_NAMES + ("jwt-private-key-next",):
            self.assertRegex(out, rf"order-system/prod/{name}: present")
        for name in PARAM_NAMES:
            self.assertIn(f"/order-system/prod/{name}: (", out)
        self.assertIn("owner@shop.example", out)
        self.assertIn("Signing key rotation: added", out)

        code, out, _ = self.run_script("--stage", "staging", "--region", REGION, "show")
        self.assertEqual(code, 0)
        self.assertIn("order-system/staging/jwt-private-key: absent", out)

    def test_token_lifetime_matches_the_rust_constant(self):
        source = REPO / "shared" / "http-api" / "src" / "auth.rs"
        if not source.exists():
            self.skipTest(f"{source} not found")
        text = source.read_text()
        ttl = re.search(r"ACCESS_TOKEN_TTL_SECONDS: i64 = ([0-9 *]+);", text)
        leeway = re.search(r"const LEEWAY_SECONDS: i64 = (\d+);", text)
        self.assertIsNotNone(ttl)
        self.assertIsNotNone(leeway)
        seconds = 1
        for factor in ttl.group(1).split("*"):
            seconds *= int(factor)
        self.assertEqual(bootstrap.ACCESS_TOKEN_LIFETIME.total_seconds(), seconds)
        self.assertEqual(bootstrap.VERIFIER_LEEWAY.total_seconds(), int(leeway.group(1)))


if __name__ == "__main__":
    unittest.main()
