"""samconfig.toml: every environment satisfies the template, and a placeholder cannot.

The mutations are the mistakes that would otherwise surface only in a deploy: a left-over
placeholder, a value outside the template's constraints, one environment reading another's
secrets, a secret pasted where its name belongs.
"""

from __future__ import annotations

import copy
import tomllib
import unittest
from typing import Any

from deploy_support import ROOT

import environments

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
PARAMETERS = environments.template_parameters()


def with_override(env: str, name: str, value: str) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    deploy = config[env]["deploy"]["parameters"]
    overrides = [o for o in deploy["parameter_overrides"] if not o.startswith(f"{name}=")]
    deploy["parameter_overrides"] = overrides + [f"{name}={value}"]
    return config


class SamconfigTest(unittest.TestCase):
    def test_every_environment_satisfies_the_template(self) -> None:
        self.assertEqual(environments.problems(CONFIG, PARAMETERS), [])
        self.assertEqual(sorted(k for k, v in CONFIG.items() if isinstance(v, dict)), ["default", "prod", "staging"])

    def test_the_stages_differ_where_they_should(self) -> None:
        overrides = {
            env: dict(o.split("=", 1) for o in CONFIG[env]["deploy"]["parameters"]["parameter_overrides"])
            for env in environments.STAGES
        }
        self.assertEqual(overrides["prod"]["AfricasTalkingBaseUrl"], "https://api.africastalking.com")
        self.assertEqual(overrides["staging"]["AfricasTalkingBaseUrl"], "https://api.sandbox.africastalking.com")
        # Real money only in prod: dev and staging pay through Daraja's sandbox.
        self.assertEqual(overrides["prod"]["MpesaBaseUrl"], "https://api.safaricom.co.ke")
        self.assertEqual(overrides["staging"]["MpesaBaseUrl"], "https://sandbox.safaricom.co.ke")
        self.assertEqual(overrides["default"]["MpesaBaseUrl"], "https://sandbox.safaricom.co.ke")
        self.assertNotEqual(overrides["prod"]["LogLevel"], "debug")

    def test_placeholders_and_wrong_values_fail(self) -> None:
        cases = [
            ("prod", "Stage", "REPLACE_ME"),
            ("prod", "Stage", "staging"),
            ("staging", "GoogleClientIdParameter", "REPLACE_WITH_GOOGLE_CLIENT_ID"),
            ("prod", "JwtPrivateKeySecretName", "REPLACE_WITH_SECRET_NAME"),
            ("prod", "JwtPrivateKeySecretName", "order-system/staging/jwt-private-key"),
            ("prod", "AlarmEmailParameter", "/order-system/dev/alarm-email"),
            ("default", "WebOriginParameterName", "TODO"),
            ("prod", "AfricasTalkingBaseUrl", "https://example.com"),
            ("prod", "LogLevel", "trace"),
            ("prod", "LogRetentionDays", "3"),
            ("prod", "ApiThrottlingRateLimit", "0"),
            ("prod", "ApiThrottlingBurstLimit", "lots"),
            ("prod", "VatRate", "16%"),
            ("prod", "HandOffGraceSeconds", "5"),
            ("prod", "AfricasTalkingSenderId", "A-SENDER-ID-TOO-LONG"),
            ("prod", "GoogleClientSecretName", "GOCSPX-abcdefghijklmnopqrstuvwxyz12"),
            ("prod", "NoSuchParameter", "1"),
            ("prod", "MpesaBaseUrl", "https://sandbox.safaricom.co.ke/"),
            ("staging", "MpesaBaseUrl", "http://127.0.0.1:9600"),
            ("prod", "MpesaCallbackTokenSecretName", "order-system/staging/mpesa-callback-token"),
            ("prod", "SmsDeliveryTokenSecretName", "order-system/staging/sms-delivery-token"),
            ("staging", "SmsDeliveryTokenSecretName", "REPLACE_ME"),
            ("prod", "MpesaPasskeySecretName", "REPLACE_ME"),
            ("prod", "MpesaConsumerSecretSecretName", "order-system/prod/Consumer_Secret"),
            ("default", "MpesaCallbackBaseUrlParameter", "https://api.shop.example/api/v1/payments/callbacks"),
            ("prod", "MpesaShortcodeParameter", "/order-system/dev/mpesa-shortcode"),
            ("prod", "MpesaAllowedSourceIps", "196.201.214.0/24"),
            ("prod", "MpesaAllowedSourceIps", "any"),
            ("prod", "MpesaAllowedSourceIps", "196.201.214.200,"),
        ]
        for env, name, value in cases:
            with self.subTest(env=env, override=f"{name}={value}"):
                found = environments.problems(with_override(env, name, value), PARAMETERS)
                self.assertTrue(any(name in p and p.startswith(f"[{env}]") for p in found), found)

    def test_safaricoms_callback_addresses_may_be_listed(self) -> None:
        for value in ("196.201.214.200", "196.201.214.200,196.201.214.206", "'196.201.214.200, 2001:db8::1'"):
            with self.subTest(value=value):
                self.assertEqual(environments.problems(with_override("prod", "MpesaAllowedSourceIps", value), PARAMETERS), [])

    def test_a_missing_required_parameter_fails(self) -> None:
        config = copy.deepcopy(CONFIG)
        deploy = config["staging"]["deploy"]["parameters"]
        deploy["parameter_overrides"] = [
            o for o in deploy["parameter_overrides"] if not o.startswith("OrderEmailToParameter=")
        ]
        self.assertIn(
            "[staging] OrderEmailToParameter has no default and is not set",
            environments.problems(config, PARAMETERS),
        )

    def test_deploy_settings_fail_when_unsafe(self) -> None:
        cases = [
            ("prod", "deploy", "confirm_changeset", False, "confirm"),
            ("staging", "global", "stack_name", "order-system", "stack_name"),
            ("default", "global", "region", "us-east-1", "region"),
            ("prod", "deploy", "capabilities", "CAPABILITY_IAM", "AUTO_EXPAND"),
            ("prod", "deploy", "tags", "project=order-system", "stage=prod"),
            ("staging", "build", "parallel", False, "parallel"),
            ("prod", "build", "cached", True, "cache"),
        ]
        for env, section, key, value, expected in cases:
            with self.subTest(env=env, key=key):
                config = copy.deepcopy(CONFIG)
                config[env][section]["parameters"][key] = value
                found = environments.problems(config, PARAMETERS)
                self.assertTrue(any(expected in p for p in found), found)

    def test_no_secret_in_a_parameter_default(self) -> None:
        for name, spec in PARAMETERS.items():
            if name.endswith(("SecretName", "Key", "Secret", "Password", "Token")):
                with self.subTest(parameter=name):
                    self.assertNotIn("Default", spec)


if __name__ == "__main__":
    unittest.main()
