//! The result of an STK push, posted to its `CallBackURL`:
//! `{"Body":{"stkCallback":{"MerchantRequestID","CheckoutRequestID","ResultCode",
//! "ResultDesc","CallbackMetadata":{"Item":[{"Name","Value"}…]}}}}`.
//!
//! Invariants:
//! - `ResultCode` is a JSON number here (a string is malformed).
//! - [`StkCallback::paid`] is `Some` exactly when the result code is `0`; then the
//!   metadata must hold `Amount` (a number above 0 with at most 2 places) and
//!   `MpesaReceiptNumber` (a receipt), else the callback is malformed. A failure's
//!   metadata, if any, is not read.
//! - Known items have fixed types (`Amount` and `TransactionDate` numbers, the receipt a
//!   string); `PhoneNumber` is kept as opaque text from a number or a string (Safaricom
//!   masks numbers in some callbacks). Items without a value (`Balance`) and unknown
//!   items are ignored; a known item given twice is malformed.
//! - The payer's number never shows in `Debug`.

use std::fmt;

use domain::Money;
use time::OffsetDateTime;

use super::reader::{Digits, MalformedCallback, Node, Problem, parse_body};
use crate::result_code::ResultCode;
use domain::payment::Receipt;

/// The outcome of an STK push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkCallback {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
    pub result_code: ResultCode,
    pub result_desc: String,
    /// The payment, when the customer paid (`result_code` `0`).
    pub paid: Option<StkPaid>,
}

/// What the customer paid.
#[derive(Clone, PartialEq, Eq)]
pub struct StkPaid {
    pub amount: Money,
    pub receipt: Receipt,
    /// When M-Pesa completed the payment, if it said.
    pub transaction_date: Option<OffsetDateTime>,
    /// The paying number as M-Pesa gave it (`2547…`, or masked): personal data.
    pub phone: Option<String>,
}

impl fmt::Debug for StkPaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StkPaid")
            .field("amount", &self.amount)
            .field("receipt", &self.receipt)
            .field("transaction_date", &self.transaction_date)
            .finish_non_exhaustive()
    }
}

impl StkCallback {
    /// Reads a callback body.
    pub fn parse(body: &[u8]) -> Result<Self, MalformedCallback> {
        let json = parse_body(body)?;
        let callback = Node::root(&json).field("Body")?.field("stkCallback")?;
        let merchant_request_id = callback.field("MerchantRequestID")?.id()?;
        let checkout_request_id = callback.field("CheckoutRequestID")?.id()?;
        let result_code = callback.field("ResultCode")?.result_code_number()?;
        let result_desc = callback.field("ResultDesc")?.str()?.to_owned();
        let paid = if result_code.is_success() {
            Some(paid(&callback.field("CallbackMetadata")?.field("Item")?)?)
        } else {
            None
        };
        Ok(Self {
            merchant_request_id,
            checkout_request_id,
            result_code,
            result_desc,
            paid,
        })
    }
}

/// The metadata items of a successful payment.
#[derive(Default)]
struct Items<'a> {
    amount: Option<Node<'a>>,
    receipt: Option<Node<'a>>,
    transaction_date: Option<Node<'a>>,
    phone: Option<Node<'a>>,
}

fn paid(items: &Node<'_>) -> Result<StkPaid, MalformedCallback> {
    let mut found = Items::default();
    for item in items.items()? {
        let slot = match item.field("Name")?.str()? {
            "Amount" => &mut found.amount,
            "MpesaReceiptNumber" => &mut found.receipt,
            "TransactionDate" => &mut found.transaction_date,
            "PhoneNumber" => &mut found.phone,
            _ => continue,
        };
        let Some(value) = item.optional("Value")? else {
            continue;
        };
        if slot.is_some() {
            return Err(item.fail(Problem::Repeated));
        }
        *slot = Some(value);
    }
    let missing = |name: &str| MalformedCallback {
        path: format!("{}[Name={name}].Value", items.path()),
        problem: Problem::Missing,
    };
    let amount = found.amount.ok_or_else(|| missing("Amount"))?;
    let receipt = found.receipt.ok_or_else(|| missing("MpesaReceiptNumber"))?;
    Ok(StkPaid {
        amount: amount.amount_number()?,
        receipt: receipt.receipt()?,
        transaction_date: found
            .transaction_date
            .map(|date| date.nairobi_time(Digits::Number))
            .transpose()?,
        phone: found
            .phone
            .map(|phone| phone.text())
            .transpose()?
            .filter(|phone| !phone.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    /// Daraja's documented successful callback.
    fn paid_body() -> Value {
        json!({"Body": {"stkCallback": {
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "CallbackMetadata": {"Item": [
                {"Name": "Amount", "Value": 1.00},
                {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20191219102115_u64},
                {"Name": "PhoneNumber", "Value": 254708374149_u64}
            ]}
        }}})
    }

    fn parse(body: &Value) -> Result<StkCallback, MalformedCallback> {
        StkCallback::parse(body.to_string().as_bytes())
    }

    fn problem_at(body: &Value) -> (String, Problem) {
        let error = parse(body).expect_err("malformed");
        (error.path, error.problem)
    }

    #[test]
    fn reads_a_payment() {
        let callback = parse(&paid_body()).expect("paid");
        assert_eq!(callback.merchant_request_id, "29115-34620561-1");
        assert_eq!(callback.checkout_request_id, "ws_CO_191220191020363925");
        assert!(callback.result_code.is_success());
        let paid = callback.paid.expect("paid");
        assert_eq!(paid.amount.to_string(), "1.00");
        assert_eq!(paid.receipt.as_str(), "NLJ7RT61SV");
        assert_eq!(
            paid.transaction_date,
            Some(datetime!(2019-12-19 07:21:15 UTC))
        );
        assert_eq!(paid.phone.as_deref(), Some("254708374149"));
    }

    #[test]
    fn the_literal_documented_text_reads_too() {
        // As Daraja writes it: `1.00`, not re-serialised.
        let body = br#"{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":0,"ResultDesc":"The service request is processed successfully.","CallbackMetadata":{"Item":[{"Name":"Amount","Value":1499.50},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},{"Name":"Balance"},{"Name":"TransactionDate","Value":20191219102115},{"Name":"PhoneNumber","Value":254708374149}]}}}}"#;
        let paid = StkCallback::parse(body).expect("paid").paid.expect("paid");
        assert_eq!(paid.amount.to_string(), "1499.50");
    }

    #[test]
    fn reads_a_failure_without_metadata() {
        let body = json!({"Body": {"stkCallback": {
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": 1032,
            "ResultDesc": "Request cancelled by user."
        }}});
        let callback = parse(&body).expect("failure");
        assert_eq!(callback.result_code, ResultCode::from_number(1032));
        assert_eq!(callback.result_desc, "Request cancelled by user.");
        assert_eq!(callback.paid, None);
    }

    #[test]
    fn optional_items_may_be_missing_and_unknown_ones_are_ignored() {
        let mut body = paid_body();
        body["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = json!([
            {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
            {"Name": "Amount", "Value": 1},
            {"Name": "SomethingNew", "Value": [1, 2]},
            {"Name": "PhoneNumber", "Value": "2547 ***** 149"}
        ]);
        let paid = parse(&body).expect("paid").paid.expect("paid");
        assert_eq!(paid.amount.to_string(), "1.00");
        assert_eq!(paid.transaction_date, None);
        assert_eq!(paid.phone.as_deref(), Some("2547 ***** 149"));
    }

    #[test]
    fn a_payment_without_amount_or_receipt_is_malformed() {
        for (items, path) in [
            (
                json!([{"Name": "Amount", "Value": 1}]),
                "Body.stkCallback.CallbackMetadata.Item[Name=MpesaReceiptNumber].Value",
            ),
            (
                json!([{"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"}, {"Name": "Amount"}]),
                "Body.stkCallback.CallbackMetadata.Item[Name=Amount].Value",
            ),
            (
                json!([]),
                "Body.stkCallback.CallbackMetadata.Item[Name=Amount].Value",
            ),
        ] {
            let mut body = paid_body();
            body["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = items;
            assert_eq!(problem_at(&body), (path.to_owned(), Problem::Missing));
        }
        let mut body = paid_body();
        body["Body"]["stkCallback"]
            .as_object_mut()
            .expect("object")
            .remove("CallbackMetadata");
        assert_eq!(
            problem_at(&body),
            (
                "Body.stkCallback.CallbackMetadata".to_owned(),
                Problem::Missing
            )
        );
    }

    #[test]
    fn wrong_types_are_malformed() {
        let item = |i: usize| format!("Body.stkCallback.CallbackMetadata.Item[{i}].Value");
        let cases: [(&str, Value, String, Problem); 6] = [
            (
                "/Body/stkCallback/ResultCode",
                json!("0"),
                "Body.stkCallback.ResultCode".into(),
                Problem::WrongType("a number"),
            ),
            (
                "/Body/stkCallback/ResultCode",
                json!(0.5),
                "Body.stkCallback.ResultCode".into(),
                Problem::Invalid("an integer"),
            ),
            (
                "/Body/stkCallback/CallbackMetadata/Item/0/Value",
                json!("1.00"),
                item(0),
                Problem::WrongType("a number"),
            ),
            (
                "/Body/stkCallback/CallbackMetadata/Item/1/Value",
                json!(123),
                item(1),
                Problem::WrongType("a string"),
            ),
            (
                "/Body/stkCallback/CallbackMetadata/Item/3/Value",
                json!("20191219102115"),
                item(3),
                Problem::WrongType("an integer"),
            ),
            (
                "/Body/stkCallback/CallbackMetadata/Item",
                json!({"Name": "Amount", "Value": 1}),
                "Body.stkCallback.CallbackMetadata.Item".into(),
                Problem::WrongType("an array"),
            ),
        ];
        for (pointer, value, path, problem) in cases {
            let mut body = paid_body();
            *body.pointer_mut(pointer).expect(pointer) = value;
            assert_eq!(problem_at(&body), (path, problem), "{pointer}");
        }
    }

    #[test]
    fn amounts_must_be_positive_with_two_places_at_most() {
        let invalid = Problem::Invalid("an amount above 0 with at most 2 decimal places");
        for amount in [
            json!(0),
            json!(0.0),
            json!(-1.00),
            json!(1.005),
            json!(1e300),
        ] {
            let mut body = paid_body();
            body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = amount.clone();
            assert_eq!(
                problem_at(&body),
                (
                    "Body.stkCallback.CallbackMetadata.Item[0].Value".to_owned(),
                    invalid
                ),
                "{amount}"
            );
        }
    }

    #[test]
    fn bad_receipts_dates_and_repeats_are_malformed() {
        let mut body = paid_body();
        body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"] = json!("nlj7rt61sv");
        assert_eq!(
            problem_at(&body).1,
            Problem::Invalid("an M-Pesa receipt number")
        );
        let mut body = paid_body();
        body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][3]["Value"] =
            json!(20191319102115_u64);
        assert_eq!(
            problem_at(&body).1,
            Problem::Invalid("a YYYYMMDDHHmmss timestamp")
        );
        let mut body = paid_body();
        body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
            .as_array_mut()
            .expect("items")
            .push(json!({"Name": "Amount", "Value": 2}));
        assert_eq!(
            problem_at(&body),
            (
                "Body.stkCallback.CallbackMetadata.Item[5]".to_owned(),
                Problem::Repeated
            )
        );
    }

    #[test]
    fn other_shapes_are_malformed() {
        let paid = paid_body();
        let inner = paid["Body"]["stkCallback"].clone();
        for (body, path) in [
            (
                json!({"Body": {"Body": {"stkCallback": inner.clone()}}}),
                "Body.stkCallback",
            ),
            (json!({"stkCallback": inner.clone()}), "Body"),
            (
                json!({"Body": {"stkCallback": [inner]}}),
                "Body.stkCallback",
            ),
            (json!([paid]), ""),
        ] {
            assert_eq!(parse(&body).expect_err("malformed").path, path, "{body}");
        }
        for field in [
            "MerchantRequestID",
            "CheckoutRequestID",
            "ResultCode",
            "ResultDesc",
        ] {
            let mut body = paid_body();
            body["Body"]["stkCallback"]
                .as_object_mut()
                .expect("object")
                .remove(field);
            assert_eq!(
                problem_at(&body),
                (format!("Body.stkCallback.{field}"), Problem::Missing)
            );
        }
        assert_eq!(
            StkCallback::parse(b"not json")
                .expect_err("malformed")
                .problem,
            Problem::NotJson
        );
    }

    #[test]
    fn debug_hides_the_phone() {
        let callback = parse(&paid_body()).expect("paid");
        assert!(!format!("{callback:?}").contains("708374149"));
    }
}
