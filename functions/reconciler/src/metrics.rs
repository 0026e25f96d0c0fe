//! The run's figures as CloudWatch metrics, in the embedded metric format (EMF): one JSON
//! object per run, printed on its own line to stdout, from which CloudWatch Logs extracts
//! the metrics itself — no API call on the run's path and no `cloudwatch:PutMetricData`
//! permission. template.yaml's `ReconcilerOverdueHandOffsAlarm` watches `OverdueHandOffs`.
//!
//! Invariants: namespace `OrderSystem`, one dimension `FunctionName` (unique per stack, so
//! stages sharing an account never mix), both metrics present on every run (0 included,
//! so a quiet shop still reports), counts as `Count`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::RunReport;

/// Namespace of the system's own metrics.
pub const NAMESPACE: &str = "OrderSystem";

/// The EMF document of one run of the function `function_name`, finished at `at`.
pub fn emf_line(function_name: &str, report: &RunReport, at: SystemTime) -> String {
    let timestamp_ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    { "Name": "OverdueHandOffs", "Unit": "Count" },
                    { "Name": "ResendFailures", "Unit": "Count" },
                ],
            }],
        },
        "FunctionName": function_name,
        "OverdueHandOffs": report.resent + report.failed,
        "ResendFailures": report.failed,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;

    #[test]
    fn a_run_is_one_emf_document_with_both_counts() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_000_000_123);
        let report = RunReport {
            resent: 3,
            failed: 1,
        };
        let line = emf_line("order-system-prod-ReconcilerFunction-abc", &report, at);
        assert!(!line.contains('\n'), "one log line");
        let doc: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(doc["_aws"]["Timestamp"], 1_764_000_000_123u64);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "OrderSystem");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(
            directive["Metrics"],
            json!([
                { "Name": "OverdueHandOffs", "Unit": "Count" },
                { "Name": "ResendFailures", "Unit": "Count" },
            ])
        );
        assert_eq!(
            doc["FunctionName"],
            "order-system-prod-ReconcilerFunction-abc"
        );
        assert_eq!(
            doc["OverdueHandOffs"], 4,
            "found overdue = re-sent + failed to re-send"
        );
        assert_eq!(doc["ResendFailures"], 1);
    }

    #[test]
    fn a_quiet_run_still_reports_zero() {
        let line = emf_line("f", &RunReport::default(), SystemTime::now());
        let doc: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(doc["OverdueHandOffs"], 0);
        assert_eq!(doc["ResendFailures"], 0);
    }
}
