"""The cfn-guard rules pass on every environment's template, and each rule can fail.

Each mutation below breaks exactly one promise of the template (as a careless edit would)
and must make the named rule fail: a rule that cannot fail proves nothing.
"""

from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path
from typing import Any, Callable

from deploy_support import ROOT, deployed, policy, source_template, transform

Mutation = Callable[[dict[str, Any]], None]


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return props(template, role)["Policies"][0]["PolicyDocument"]["Statement"]


def table_statement(template: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in statements(template, "OrdersRole") if s["Sid"] == "TableItemAccess")


def set_env(name: str, value: Any) -> Mutation:
    def mutate(t: dict[str, Any]) -> None:
        props(t, "NotifierFunction")["Environment"]["Variables"][name] = value

    return mutate


# rule -> mutations of prod's deployed template that must each make it fail.
MUTATIONS: dict[str, list[tuple[str, Mutation]]] = {
    "functions.guard/function_arm64_al2023": [
        ("x86_64", lambda t: props(t, "OrdersFunction").update(Architectures=["x86_64"])),
        ("no architectures", lambda t: props(t, "OrdersFunction").pop("Architectures")),
        ("provided.al2", lambda t: props(t, "AuthFunction").update(Runtime="provided.al2")),
    ],
    "functions.guard/function_tracing_active": [
        ("PassThrough", lambda t: props(t, "CategoriesFunction").update(TracingConfig={"Mode": "PassThrough"})),
        ("no tracing", lambda t: props(t, "CategoriesFunction").pop("TracingConfig")),
    ],
    "functions.guard/function_logs_json_own_group": [
        ("text logs", lambda t: props(t, "ProductsFunction")["LoggingConfig"].update(LogFormat="Text")),
        ("default log group", lambda t: props(t, "ProductsFunction")["LoggingConfig"].pop("LogGroup")),
    ],
    "functions.guard/log_retention_set": [
        ("kept forever", lambda t: props(t, "AuthLogGroup").pop("RetentionInDays")),
    ],
    "iam.guard/iam_no_managed_policies": [
        (
            "full access",
            lambda t: props(t, "OrdersRole").update(
                ManagedPolicyArns=["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
            ),
        ),
    ],
    "iam.guard/iam_no_wildcard_actions": [
        ("dynamodb:*", lambda t: table_statement(t)["Action"].append("dynamodb:*")),
    ],
    "iam.guard/iam_no_wildcard_resources": [
        ("every resource", lambda t: table_statement(t).update(Resource="*")),
        ("every index", lambda t: table_statement(t)["Resource"].append({"Fn::Sub": "${Table.Arn}/index/*"})),
        (
            "non-X-Ray action beside X-Ray's",
            lambda t: next(s for s in statements(t, "AuthRole") if s["Sid"] == "WriteTraces")[
                "Action"
            ].append("dynamodb:Scan"),
        ),
    ],
    "data.guard/table_point_in_time_recovery": [
        (
            "no PITR",
            lambda t: props(t, "Table").update(
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
            ),
        ),
        ("provisioned", lambda t: props(t, "Table").update(BillingMode="PROVISIONED")),
    ],
    "data.guard/table_retained_in_prod": [
        ("deleted with the stack", lambda t: t["Resources"]["Table"].update(DeletionPolicy="Delete")),
        ("unprotected", lambda t: props(t, "Table").update(DeletionProtectionEnabled=False)),
    ],
    "data.guard/queue_has_dead_letter_queue": [
        ("no redrive", lambda t: props(t, "NotificationsQueue").pop("RedrivePolicy")),
        (
            "a second queue without one",
            lambda t: t["Resources"].update(AuditQueue={"Type": "AWS::SQS::Queue", "Properties": {}}),
        ),
    ],
    "data.guard/sqs_event_source_reports_item_failures": [
        (
            "whole-batch retries",
            lambda t: next(
                r for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
            )["Properties"].pop("FunctionResponseTypes"),
        ),
    ],
    "secrets.guard/secret_names_only_in_dynamic_references": [
        ("the name itself", set_env("AT_API_KEY", {"Ref": "AfricasTalkingApiKeySecretName"})),
        (
            "the name inside a string",
            set_env("AT_API_KEY_NAME", {"Fn::Sub": "name=${AfricasTalkingApiKeySecretName}"}),
        ),
    ],
    "secrets.guard/no_secret_parameter_default": [
        (
            "a default secret name",
            lambda t: t["Parameters"]["JwtPrivateKeySecretName"].update(Default="order-system/jwt"),
        ),
        (
            "a secret as a parameter",
            lambda t: t["Parameters"].update(AfricasTalkingApiKey={"Type": "String", "Default": "atsk_1"}),
        ),
    ],
    "secrets.guard/no_secret_name_in_outputs": [
        (
            "output of a secret name",
            lambda t: t["Outputs"].update(Leak={"Value": {"Ref": "GoogleClientSecretName"}}),
        ),
    ],
}


class PolicyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.dir.cleanup()

    def verdicts(self, template: dict[str, Any], name: str) -> policy.Verdicts:
        path = Path(self.dir.name) / f"{name}.json"
        path.write_text(json.dumps(template))
        return policy.guard(path)

    def test_every_rule_passes_in_every_environment(self) -> None:
        for env in policy.environments():
            with self.subTest(env=env):
                verdicts = self.verdicts(deployed(env), env)
                self.assertEqual(verdicts.failed(), [])
                self.assertEqual(set(verdicts.by_rule), set(MUTATIONS), "a rule without a mutation test")

    def test_prod_only_rules_apply_to_prod_only(self) -> None:
        rule = "data.guard/table_retained_in_prod"
        self.assertEqual(self.verdicts(deployed("prod"), "prod").by_rule[rule], "PASS")
        self.assertEqual(self.verdicts(deployed("default"), "dev").by_rule[rule], "SKIP")

    def test_each_rule_fails_on_a_template_that_breaks_it(self) -> None:
        for rule, mutations in MUTATIONS.items():
            for label, mutate in mutations:
                with self.subTest(rule=rule, mutation=label):
                    template = deployed("prod")
                    mutate(template)
                    verdicts = self.verdicts(template, "broken")
                    self.assertEqual(verdicts.failed(), [rule])

    def test_a_function_without_its_own_role_gets_managed_policies_and_fails(self) -> None:
        # Dropping `Role` lets SAM create one with AWSLambdaBasicExecutionRole and
        # AWSXrayWriteOnlyAccess (both grant `*`): the rules catch it after the transform.
        source = source_template()
        del source["Resources"]["CustomersFunction"]["Properties"]["Role"]
        _, overrides = transform.environment(ROOT / "samconfig.toml", "prod")
        values = transform.parameter_values(source, overrides)
        template = transform.sam_transform(source, values, "af-south-1")
        template = transform.resolve(template, {"IsProd": True})
        template["Metadata"] = {"Deployment": {"Environment": "prod", "Stage": "prod"}}
        failed = self.verdicts(template, "own-role").failed()
        self.assertIn("iam.guard/iam_no_managed_policies", failed)


if __name__ == "__main__":
    unittest.main()
