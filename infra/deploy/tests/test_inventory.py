"""The deployed template holds exactly the resources the system needs, by name.

Counted after the SAM transform (prod's parameters): the functions and their roles and
log groups, one HTTP API with every route of every function wired to its function, the
queue's event source mapping, the reconciler's schedule, the alarms and the log metric
filters three of them watch, the table, the queues and the topic. A resource added or lost by an edit of template.yaml shows up here.
"""

from __future__ import annotations

import collections
import unittest
from typing import Any

from deploy_support import ROOT, deployed, source_template, transform

FUNCTIONS = ["Categories", "Products", "Auth", "Customers", "Audit", "Console", "Orders", "Payments", "Notifier", "SmsDelivery", "Reconciler"]
HTTP_FUNCTIONS = ["Categories", "Products", "Auth", "Customers", "Audit", "Console", "Orders", "Payments", "SmsDelivery"]

EXPECTED_COUNTS = {
    "AWS::Lambda::Function": 11,
    "AWS::IAM::Role": 12,  # one per function + the scheduler's
    "AWS::Logs::LogGroup": 12,  # one per function + the API's access log
    # M-Pesa's refused callbacks and failed reversals (the payments function's, and the
    # reconciler's sweep's), and Africa's Talking's refused delivery reports.
    "AWS::Logs::MetricFilter": 4,
    "AWS::ApiGatewayV2::Api": 1,
    "AWS::ApiGatewayV2::Stage": 1,
    # One per route: 50, + 2 for POST /orders/{id}/pay and its ANY, + 10 for the five
    # M-Pesa callback paths (POST and ANY each), + 4 for staff's two payment paths, + 2
    # for the SMS delivery-report path (POST and ANY).
    "AWS::Lambda::Permission": 68,
    "AWS::Lambda::EventSourceMapping": 1,
    "AWS::Scheduler::Schedule": 1,
    "AWS::CloudWatch::Alarm": 28,
    "AWS::DynamoDB::Table": 1,
    "AWS::SQS::Queue": 2,
    "AWS::SNS::Topic": 1,
    "AWS::SNS::Subscription": 1,
}

# The alarms counting log lines: the metric filter that counts them, the event it counts
# and the log group it reads.
LOG_ALARMS = {
    "MpesaCallbacksRefusedAlarm": ("MpesaCallbacksRefusedMetricFilter", "mpesa.callback_refused", "PaymentsLogGroup"),
    "MpesaReversalFailedAlarm": ("MpesaReversalFailedMetricFilter", "mpesa.reversal_failed", "PaymentsLogGroup"),
    "SmsDeliveryReportsRefusedAlarm": (
        "SmsDeliveryReportsRefusedMetricFilter", "sms.delivery_report_refused", "SmsDeliveryLogGroup",
    ),
}
SMS_DELIVERY_PATH = "/api/v1/notifications/sms/delivery/{token}"

ALARMS = (
    ["ApiServerErrorRateAlarm", "NotificationsDeadLetterAlarm", "ReconcilerOverdueHandOffsAlarm"]
    + list(LOG_ALARMS)
    + [f"{f}ErrorsAlarm" for f in FUNCTIONS]
    + [f"{f}ThrottlesAlarm" for f in FUNCTIONS]
)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def template_routes(source: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, path) -> function, from the HttpApi events of template.yaml."""
    routes = {}
    for name, resource in source["Resources"].items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                key = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
                routes[key] = name
    return routes


class InventoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.prod = deployed("prod")

    def test_resource_counts(self) -> None:
        counts = collections.Counter(r["Type"] for r in self.prod["Resources"].values())
        self.assertEqual(dict(counts), EXPECTED_COUNTS)

    def test_functions_roles_and_log_groups_by_name(self) -> None:
        self.assertEqual(set(of_type(self.prod, "AWS::Lambda::Function")), {f"{f}Function" for f in FUNCTIONS})
        self.assertEqual(
            set(of_type(self.prod, "AWS::IAM::Role")),
            {f"{f}Role" for f in FUNCTIONS} | {"ReconcilerFunctionEveryFiveMinutesRole"},
        )
        for f in FUNCTIONS:
            with self.subTest(function=f):
                props = self.prod["Resources"][f"{f}Function"]["Properties"]
                self.assertEqual(props["Role"], {"Fn::GetAtt": [f"{f}Role", "Arn"]})
                self.assertEqual(props["LoggingConfig"]["LogGroup"], {"Ref": f"{f}LogGroup"})
                self.assertLessEqual(props["Timeout"], 60)
                self.assertIn(props["MemorySize"], (128, 256, 512))

    def test_every_route_reaches_its_function(self) -> None:
        routes = template_routes(source_template())
        self.assertEqual(len(routes), EXPECTED_COUNTS["AWS::Lambda::Permission"])
        body = self.prod["Resources"]["HttpApi"]["Properties"]["Body"]
        deployed_routes = {}
        for path, methods in body["paths"].items():
            for method, operation in methods.items():
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                deployed_routes[(verb, path)] = next(f"{f}Function" for f in HTTP_FUNCTIONS if f"${{{f}Function.Arn}}" in uri)
        self.assertEqual(deployed_routes, routes)
        permissions = of_type(self.prod, "AWS::Lambda::Permission")
        per_function = collections.Counter(p["Properties"]["FunctionName"]["Ref"] for p in permissions.values())
        self.assertEqual(per_function, collections.Counter(routes.values()))

    def test_api_stage_throttling_and_access_logs(self) -> None:
        stage = next(iter(of_type(self.prod, "AWS::ApiGatewayV2::Stage").values()))["Properties"]
        self.assertEqual(stage["StageName"], "$default")
        self.assertEqual(stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], {"Ref": "ApiThrottlingBurstLimit"})
        self.assertEqual(stage["DefaultRouteSettings"]["ThrottlingRateLimit"], {"Ref": "ApiThrottlingRateLimit"})
        self.assertEqual(stage["AccessLogSettings"]["DestinationArn"], {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]})
        self.assertIn('"status":"$context.status"', stage["AccessLogSettings"]["Format"])
        cors = self.prod["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]
        self.assertEqual(cors["allowOrigins"], [{"Fn::Sub": "{{resolve:ssm:/order-system/prod/web-origin}}"}])

    def test_notifier_event_source(self) -> None:
        mapping = next(iter(of_type(self.prod, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
        self.assertEqual(mapping["FunctionName"], {"Ref": "NotifierFunction"})
        self.assertEqual(mapping["EventSourceArn"], {"Fn::GetAtt": ["NotificationsQueue", "Arn"]})
        self.assertEqual(mapping["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(mapping["BatchSize"], 10)
        self.assertEqual(mapping["ScalingConfig"], {"MaximumConcurrency": 5})
        queue = self.prod["Resources"]["NotificationsQueue"]["Properties"]
        timeout = self.prod["Resources"]["NotifierFunction"]["Properties"]["Timeout"]
        self.assertGreaterEqual(queue["VisibilityTimeout"], 6 * timeout)

    def test_reconciler_schedule_is_per_stack_and_single(self) -> None:
        schedule = next(iter(of_type(self.prod, "AWS::Scheduler::Schedule").values()))["Properties"]
        self.assertEqual(schedule["ScheduleExpression"], "rate(5 minutes)")
        self.assertEqual(schedule["Name"], {"Fn::Sub": "${AWS::StackName}-reconciler"})
        self.assertEqual(schedule["Target"]["Arn"], {"Fn::GetAtt": ["ReconcilerFunction", "Arn"]})
        self.assertEqual(self.prod["Resources"]["ReconcilerFunction"]["Properties"]["ReservedConcurrentExecutions"], 1)

    def test_alarms_by_name_all_notify_the_topic(self) -> None:
        alarms = of_type(self.prod, "AWS::CloudWatch::Alarm")
        self.assertEqual(sorted(alarms), sorted(ALARMS))
        for name, alarm in alarms.items():
            with self.subTest(alarm=name):
                self.assertEqual(alarm["Properties"]["AlarmActions"], [{"Ref": "AlarmTopic"}])
        for f in FUNCTIONS:
            for metric in ("Errors", "Throttles"):
                props = alarms[f"{f}{metric}Alarm"]["Properties"]
                self.assertEqual((props["Namespace"], props["MetricName"]), ("AWS/Lambda", metric))
                self.assertEqual(props["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": f"{f}Function"}}])
        overdue = alarms["ReconcilerOverdueHandOffsAlarm"]["Properties"]
        self.assertEqual((overdue["Namespace"], overdue["MetricName"]), ("OrderSystem", "OverdueHandOffs"))
        subscription = next(iter(of_type(self.prod, "AWS::SNS::Subscription").values()))["Properties"]
        self.assertEqual(subscription["Endpoint"], {"Ref": "AlarmEmailParameter"})

    def test_log_alarms_count_their_functions_log_lines(self) -> None:
        alarms = of_type(self.prod, "AWS::CloudWatch::Alarm")
        filters = of_type(self.prod, "AWS::Logs::MetricFilter")
        sweep = "MpesaReversalFailedSweepMetricFilter"
        self.assertEqual(sorted(filters), sorted([sweep] + [f for f, _, _ in LOG_ALARMS.values()]))
        # The reconciler's sweep logs the same event into its own log group, counted in the
        # same metric.
        reconciler = filters[sweep]["Properties"]
        payments = filters["MpesaReversalFailedMetricFilter"]["Properties"]
        self.assertEqual(reconciler["LogGroupName"], {"Ref": "ReconcilerLogGroup"})
        self.assertEqual(
            (reconciler["FilterPattern"], reconciler["MetricTransformations"]),
            (payments["FilterPattern"], payments["MetricTransformations"]),
        )
        for alarm_name, (filter_name, event, log_group) in LOG_ALARMS.items():
            with self.subTest(alarm=alarm_name):
                props = filters[filter_name]["Properties"]
                self.assertEqual(props["LogGroupName"], {"Ref": log_group})
                # tracing-subscriber's JSON puts an event's fields under `fields`.
                self.assertEqual(props["FilterPattern"], f'{{ $.fields.event = "{event}" }}')
                [metric] = props["MetricTransformations"]
                alarm = alarms[alarm_name]["Properties"]
                self.assertEqual(
                    (alarm["Namespace"], alarm["MetricName"]),
                    (metric["MetricNamespace"], metric["MetricName"]),
                )
                # Per stack: two stages in one account never count each other's lines.
                self.assertEqual(metric["MetricNamespace"], {"Fn::Sub": "OrderSystem/${AWS::StackName}"})
                self.assertEqual(metric["MetricValue"], "1")
                self.assertEqual(alarm["Statistic"], "Sum")
                self.assertEqual(alarm["TreatMissingData"], "notBreaching")
        # Lambda drops application log lines below the function's level before any filter
        # sees them: every such event is logged at WARN or above.
        for env in ("default", "staging", "prod"):
            with self.subTest(env=env):
                level = transform.environment(ROOT / "samconfig.toml", env)[1]["LogLevel"]
                self.assertIn(level, ("debug", "info", "warn"))

    def test_payments_function_is_public_and_configured_like_orders(self) -> None:
        source = source_template()["Resources"]
        routes = {path for (method, path), f in template_routes(source_template()).items() if f == "PaymentsFunction"}
        self.assertEqual(
            routes,
            {f"/api/v1/payments/callbacks/{{token}}/{leaf}" for leaf in
             ("stk", "c2b/validation", "c2b/confirmation", "reversal/result", "reversal/timeout")}
            | {"/api/v1/payments", "/api/v1/payments/{id}/assign"},
        )
        payments = source["PaymentsFunction"]["Properties"]["Environment"]["Variables"]
        orders = source["OrdersFunction"]["Properties"]["Environment"]["Variables"]
        mpesa = {k: v for k, v in orders.items() if k.startswith("MPESA_")}
        self.assertEqual(
            sorted(mpesa),
            sorted(
                f"MPESA_{n}" for n in ("BASE_URL", "SHORTCODE", "CONSUMER_KEY", "CONSUMER_SECRET", "PASSKEY",
                                       "INITIATOR_NAME", "SECURITY_CREDENTIAL", "CALLBACK_TOKEN",
                                       "CALLBACK_BASE_URL", "ALLOWED_SOURCE_IPS")
            ),
        )
        self.assertEqual({k: v for k, v in payments.items() if k.startswith("MPESA_")}, mpesa)
        # The reconciler's sweep queries prompts and requests reversals as the payments
        # function does.
        reconciler = source["ReconcilerFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual({k: v for k, v in reconciler.items() if k.startswith("MPESA_")}, mpesa)
        for name in ("NOTIFICATIONS_QUEUE_URL", "HAND_OFF_GRACE_SECONDS", "SECRETS_REVISION"):
            self.assertEqual(payments[name], orders[name], name)
        statements = source["PaymentsRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        send = next(s for s in statements if s["Sid"] == "SendConfirmations")
        self.assertEqual((send["Action"], send["Resource"]), (["sqs:SendMessage"], [{"Fn::GetAtt": ["NotificationsQueue", "Arn"]}]))

    def test_sms_delivery_function_is_public_and_reads_one_item_updates_one(self) -> None:
        source = source_template()["Resources"]
        routes = {key for key, f in template_routes(source_template()).items() if f == "SmsDeliveryFunction"}
        self.assertEqual(routes, {("POST", SMS_DELIVERY_PATH), ("ANY", SMS_DELIVERY_PATH)})
        variables = source["SmsDeliveryFunction"]["Properties"]["Environment"]["Variables"]
        # The token is a Secrets Manager dynamic reference (the guard rule checks its form),
        # redeployed with SecretsRevision like every function holding a secret.
        self.assertEqual(
            variables["SMS_DELIVERY_TOKEN"],
            {"Fn::Sub": "{{resolve:secretsmanager:${SmsDeliveryTokenSecretName}:SecretString}}"},
        )
        self.assertEqual(variables["SECRETS_REVISION"], {"Ref": "SecretsRevision"})
        deployed_variables = self.prod["Resources"]["SmsDeliveryFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(deployed_variables["TABLE_NAME"], {"Ref": "Table"})
        # Resolved by CloudFormation at deploy time, not by the transform.
        self.assertEqual(deployed_variables["SMS_DELIVERY_TOKEN"], variables["SMS_DELIVERY_TOKEN"])
        # Least privilege: GetItem of the `SMS#` item (and of the order, to tell why a
        # refused write was refused), UpdateItem of the order; no other table action, no
        # index, nothing else but its logs and traces.
        statements = source["SmsDeliveryRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        table_actions = {
            (statement["Sid"], action)
            for statement in statements
            for action in statement["Action"]
            if action.startswith("dynamodb:")
        }
        self.assertEqual(table_actions, {("ReadSentSmsAndOrder", "dynamodb:GetItem"), ("RecordDelivery", "dynamodb:UpdateItem")})
        for statement in statements:
            if statement["Sid"] in ("ReadSentSmsAndOrder", "RecordDelivery"):
                self.assertEqual(statement["Resource"], [{"Fn::GetAtt": ["Table", "Arn"]}])
        leading_keys = {
            s["Sid"]: s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            for s in statements
            if "Condition" in s
        }
        self.assertEqual(leading_keys, {"ReadSentSmsAndOrder": ["SMS#*", "ORDER#*"], "RecordDelivery": ["ORDER#*"]})
        self.assertEqual(
            sorted(a for s in statements for a in s["Action"]),
            sorted(["logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords", "dynamodb:GetItem", "dynamodb:UpdateItem"]),
        )

    def test_notifier_writes_the_sms_items_delivery_reports_find(self) -> None:
        statements = source_template()["Resources"]["NotifierRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        table = next(s for s in statements if s["Sid"] == "OrderAndCustomerItems")
        self.assertEqual(sorted(table["Action"]), ["dynamodb:GetItem", "dynamodb:UpdateItem"])
        put = next(s for s in statements if s["Sid"] == "RememberSentSms")
        self.assertEqual(put["Action"], ["dynamodb:PutItem"])
        self.assertEqual(put["Condition"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SMS#*"]}})

    def test_outputs(self) -> None:
        self.assertEqual(
            sorted(self.prod["Outputs"]),
            ["AlarmTopicArn", "ApiUrl", "NotificationsDeadLetterQueueUrl", "NotificationsQueueUrl",
             "ReconcilerFunctionName", "TableName"],
        )

    def test_table_retention_follows_the_stage(self) -> None:
        for env, policy, protected in [("prod", "Retain", True), ("staging", "Delete", False), ("default", "Delete", False)]:
            with self.subTest(env=env):
                table = deployed(env)["Resources"]["Table"]
                self.assertEqual((table["DeletionPolicy"], table["UpdateReplacePolicy"]), (policy, policy))
                self.assertEqual(table["Properties"]["DeletionProtectionEnabled"], protected)


if __name__ == "__main__":
    unittest.main()


class CorsTest(unittest.TestCase):
    def test_browsers_may_send_and_read_the_headers_the_api_uses(self) -> None:
        source = source_template()
        api = next(r for r in source["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi")
        cors = api["Properties"]["CorsConfiguration"]
        # Idempotency-Key on POST /orders; Location, Idempotent-Replayed and Retry-After on answers.
        self.assertLessEqual({"authorization", "content-type", "idempotency-key"}, set(cors["AllowHeaders"]))
        self.assertLessEqual({"location", "idempotent-replayed", "retry-after"}, set(cors["ExposeHeaders"]))
