"""transform.py's own logic: overrides as `sam` reads them, conditions, Fn::If resolution."""

from __future__ import annotations

import unittest

from deploy_support import transform


class OverridesTest(unittest.TestCase):
    def test_string_and_list_forms(self) -> None:
        expected = {"Stage": "prod", "Jwks": '{"keys": [1, 2]}', "Empty": ""}
        self.assertEqual(transform.parse_overrides("""Stage=prod Jwks='{"keys": [1, 2]}' Empty=''"""), expected)
        self.assertEqual(transform.parse_overrides(["Stage=prod", """Jwks='{"keys": [1, 2]}'""", "Empty="]), expected)

    def test_a_word_without_equals_is_refused(self) -> None:
        with self.assertRaises(transform.TransformError):
            transform.parse_overrides("Stage=prod REPLACE_ME")

    def test_values_come_from_overrides_then_defaults_and_unknown_names_fail(self) -> None:
        template = {"Parameters": {"A": {"Type": "String", "Default": "a"}, "B": {"Type": "String"}}}
        self.assertEqual(transform.parameter_values(template, {"B": "b"}), {"A": "a", "B": "b"})
        with self.assertRaises(transform.TransformError):
            transform.parameter_values(template, {})
        with self.assertRaises(transform.TransformError):
            transform.parameter_values(template, {"B": "b", "C": "c"})


class ConditionsTest(unittest.TestCase):
    CONDITIONS = {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "ProdOrStaging": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["staging", {"Ref": "Stage"}]}]},
        "Never": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
    }

    def truth(self, stage: str) -> dict[str, bool]:
        return {n: transform.evaluate(e, self.CONDITIONS, {"Stage": stage}) for n, e in self.CONDITIONS.items()}

    def test_each_function(self) -> None:
        self.assertEqual(self.truth("prod"), {"IsProd": True, "NotProd": False, "ProdOrStaging": True, "Never": False})
        self.assertEqual(self.truth("dev"), {"IsProd": False, "NotProd": True, "ProdOrStaging": False, "Never": False})

    def test_a_value_known_only_at_deploy_time_is_refused(self) -> None:
        with self.assertRaises(transform.TransformError):
            transform.evaluate({"Fn::Equals": [{"Ref": "Table"}, "x"]}, {}, {"Stage": "dev"})

    def test_if_branches_and_no_value_entries_are_resolved_everywhere(self) -> None:
        node = {
            "DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]},
            "Properties": {
                "Protected": {"Fn::If": ["IsProd", True, {"Ref": "AWS::NoValue"}]},
                "List": [1, {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 2]}],
            },
        }
        self.assertEqual(
            transform.resolve(node, {"IsProd": True}),
            {"DeletionPolicy": "Retain", "Properties": {"Protected": True, "List": [1]}},
        )
        self.assertEqual(
            transform.resolve(node, {"IsProd": False}),
            {"DeletionPolicy": "Delete", "Properties": {"List": [1, 2]}},
        )


if __name__ == "__main__":
    unittest.main()
