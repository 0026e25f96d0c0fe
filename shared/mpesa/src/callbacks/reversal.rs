//! The result of a reversal request, posted to its `ResultURL` (and a queue timeout,
//! posted to its `QueueTimeOutURL`, in the same envelope):
//! `{"Result":{"ResultType","ResultCode","ResultDesc","OriginatorConversationID",
//! "ConversationID","TransactionID","ResultParameters":{"ResultParameter":[{"Key",
//! "Value"}…]},"ReferenceData":{…}}}`.
//!
//! Invariants:
//! - `ResultCode` is read from a number or a string (`0`, `"R000001"`); both ids and
//!   `ResultDesc` are required.
//! - `ResultParameter` may be a list or, when M-Pesa has one parameter, the parameter
//!   itself; only `OriginalTransactionID` is read, other parameters (which name the
//!   parties) are not, and `ReferenceData` is ignored.

use super::reader::{MalformedCallback, Node, parse_body};
use crate::result_code::ResultCode;

/// The outcome of a reversal request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalResult {
    pub conversation_id: String,
    pub originator_conversation_id: String,
    /// Success is `0`; `R000001` means it was already reversed.
    pub result_code: ResultCode,
    pub result_desc: String,
    /// The reversal's own M-Pesa transaction, when given.
    pub transaction_id: Option<String>,
    /// The receipt of the payment reversed, when given.
    pub original_transaction_id: Option<String>,
}

impl ReversalResult {
    /// Reads a result (or queue timeout) body.
    pub fn parse(body: &[u8]) -> Result<Self, MalformedCallback> {
        let json = parse_body(body)?;
        let result = Node::root(&json).field("Result")?;
        let result_code = result.field("ResultCode")?.result_code()?;
        let result_desc = result.field("ResultDesc")?.str()?.to_owned();
        let originator_conversation_id = result.field("OriginatorConversationID")?.id()?;
        let conversation_id = result.field("ConversationID")?.id()?;
        let transaction_id = match result.optional("TransactionID")? {
            Some(id) => Some(id.text()?).filter(|id| !id.is_empty()),
            None => None,
        };
        let mut original_transaction_id = None;
        if let Some(parameters) = result.optional("ResultParameters")?
            && let Some(list) = parameters.optional("ResultParameter")?
        {
            for parameter in list.items_or_one()? {
                if parameter.field("Key")?.str()? == "OriginalTransactionID" {
                    original_transaction_id = parameter
                        .optional("Value")?
                        .map(|value| value.text())
                        .transpose()?
                        .filter(|id| !id.is_empty());
                }
            }
        }
        Ok(Self {
            conversation_id,
            originator_conversation_id,
            result_code,
            result_desc,
            transaction_id,
            original_transaction_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::callbacks::Problem;

    /// Daraja's documented successful result.
    fn reversed() -> Value {
        json!({"Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": "f1e2-4b95-a71d-b30d3cdbb7a7735297",
            "ConversationID": "AG_20210706_20106e9209f64bebd05b",
            "TransactionID": "OEI2AK4XXXX",
            "ResultParameters": {"ResultParameter": [
                {"Key": "DebitAccountBalance", "Value": "Utility Account|KES|51661.00|51661.00|0.00|0.00"},
                {"Key": "Amount", "Value": 1.00},
                {"Key": "TransCompletedTime", "Value": 20210706123000_u64},
                {"Key": "OriginalTransactionID", "Value": "OEI2AK4Q16"},
                {"Key": "Charge", "Value": 0.00},
                {"Key": "CreditPartyPublicName", "Value": "254708374149 - John Doe"},
                {"Key": "DebitPartyPublicName", "Value": "600610 - Safaricom333"}
            ]},
            "ReferenceData": {"ReferenceItem": {
                "Key": "QueueTimeoutURL",
                "Value": "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit"
            }}
        }})
    }

    fn parse(body: &Value) -> Result<ReversalResult, MalformedCallback> {
        ReversalResult::parse(body.to_string().as_bytes())
    }

    #[test]
    fn reads_a_reversal() {
        let result = parse(&reversed()).expect("result");
        assert_eq!(result.conversation_id, "AG_20210706_20106e9209f64bebd05b");
        assert_eq!(
            result.originator_conversation_id,
            "f1e2-4b95-a71d-b30d3cdbb7a7735297"
        );
        assert!(result.result_code.is_success());
        assert_eq!(result.transaction_id.as_deref(), Some("OEI2AK4XXXX"));
        assert_eq!(
            result.original_transaction_id.as_deref(),
            Some("OEI2AK4Q16")
        );
        assert!(!format!("{result:?}").contains("708374149"));
    }

    #[test]
    fn reads_string_codes_and_a_lone_parameter() {
        let mut body = reversed();
        body["Result"]["ResultCode"] = json!("R000001");
        body["Result"]["ResultDesc"] = json!("The transaction has already been reversed.");
        body["Result"]["ResultParameters"]["ResultParameter"] =
            json!({"Key": "OriginalTransactionID", "Value": "OEI2AK4Q16"});
        let result = parse(&body).expect("result");
        assert!(result.result_code.is_already_reversed());
        assert!(!result.result_code.is_success());
        assert_eq!(
            result.original_transaction_id.as_deref(),
            Some("OEI2AK4Q16")
        );
        body["Result"]["ResultCode"] = json!("0");
        assert!(parse(&body).expect("result").result_code.is_success());
    }

    #[test]
    fn a_failure_or_timeout_may_have_no_parameters() {
        let body = json!({"Result": {
            "ResultType": 0,
            "ResultCode": "R000002",
            "ResultDesc": "The OriginalTransID is invalid.",
            "OriginatorConversationID": "f1e2-4b95-a71d-b30d3cdbb7a7735297",
            "ConversationID": "AG_20210706_20106e9209f64bebd05b",
            "TransactionID": "",
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": "https://x"}}
        }});
        let result = parse(&body).expect("result");
        assert_eq!(result.result_code.as_str(), "R000002");
        assert_eq!(result.transaction_id, None);
        assert_eq!(result.original_transaction_id, None);
    }

    #[test]
    fn other_shapes_are_malformed() {
        for field in [
            "ResultCode",
            "ResultDesc",
            "OriginatorConversationID",
            "ConversationID",
        ] {
            let mut body = reversed();
            body["Result"]
                .as_object_mut()
                .expect("object")
                .remove(field);
            let error = parse(&body).expect_err("malformed");
            assert_eq!(
                (error.path, error.problem),
                (format!("Result.{field}"), Problem::Missing)
            );
        }
        for (pointer, value, path, problem) in [
            (
                "/Result/ResultCode",
                json!(""),
                "Result.ResultCode",
                Problem::WrongType("an integer or a non-empty string"),
            ),
            (
                "/Result/ResultCode",
                json!(1.5),
                "Result.ResultCode",
                Problem::WrongType("an integer or a non-empty string"),
            ),
            (
                "/Result/ResultParameters/ResultParameter",
                json!("OriginalTransactionID"),
                "Result.ResultParameters.ResultParameter",
                Problem::WrongType("an array"),
            ),
            (
                "/Result/ResultParameters/ResultParameter/3/Key",
                json!(3),
                "Result.ResultParameters.ResultParameter[3].Key",
                Problem::WrongType("a string"),
            ),
            (
                "/Result/ResultParameters/ResultParameter/3/Value",
                json!(["OEI2AK4Q16"]),
                "Result.ResultParameters.ResultParameter[3].Value",
                Problem::WrongType("a string or an integer"),
            ),
        ] {
            let mut body = reversed();
            *body.pointer_mut(pointer).expect(pointer) = value;
            let error = parse(&body).expect_err("malformed");
            assert_eq!(
                (error.path.as_str(), error.problem),
                (path, problem),
                "{pointer}"
            );
        }
        let nested = json!({"Result": {"Result": reversed()["Result"].clone()}});
        assert_eq!(
            parse(&nested).expect_err("malformed").path,
            "Result.ResultCode"
        );
    }
}
