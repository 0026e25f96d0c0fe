//! A payment to our Paybill, posted to the confirmation URL (and, when validation is
//! enabled, to the validation URL first):
//! `{"TransactionType","TransID","TransTime","TransAmount","BusinessShortCode",
//! "BillRefNumber","InvoiceNumber","OrgAccountBalance","ThirdPartyTransID","MSISDN",
//! "FirstName","MiddleName","LastName"}`.
//!
//! Invariants:
//! - `TransID` (a receipt), `TransAmount` (above 0, at most 2 places), `BillRefNumber`
//!   and `BusinessShortCode` are required; `BillRefNumber` may be empty (the payer typed
//!   no account: an unmatched payment) and is kept exactly as given.
//! - `TransAmount` is a decimal string; a number is read too, never through float
//!   arithmetic. `TransTime` and `BusinessShortCode` are read from a string or an
//!   integer's digits.
//! - Optional fields (`TransTime`, `MSISDN`, names) may be absent, `null` or `""`; when
//!   present they must have their type. `MSISDN` is opaque (Safaricom masks or hashes it).
//! - The payer's number and name never show in `Debug`.

use std::fmt;

use domain::Money;
use time::OffsetDateTime;

use super::reader::{Digits, MalformedCallback, Node, parse_body};
use domain::payment::Receipt;

/// A C2B payment (or, at the validation URL, a payment asking to be accepted).
#[derive(Clone, PartialEq, Eq)]
pub struct C2bPayment {
    pub trans_id: Receipt,
    /// When M-Pesa took the payment, if it said.
    pub trans_time: Option<OffsetDateTime>,
    pub amount: Money,
    /// The account number the payer typed, as typed; may be empty.
    pub bill_ref_number: String,
    /// The paying number as M-Pesa gave it (usually masked or hashed): personal data.
    pub msisdn: Option<String>,
    /// First, middle and last names joined, when any was given: personal data.
    pub payer_name: Option<String>,
    /// The Paybill paid.
    pub business_short_code: String,
    /// `"Pay Bill"`, `"Buy Goods"`…, when given.
    pub transaction_type: Option<String>,
}

impl fmt::Debug for C2bPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("C2bPayment")
            .field("trans_id", &self.trans_id)
            .field("trans_time", &self.trans_time)
            .field("amount", &self.amount)
            .field("bill_ref_number", &self.bill_ref_number)
            .field("business_short_code", &self.business_short_code)
            .field("transaction_type", &self.transaction_type)
            .finish_non_exhaustive()
    }
}

impl C2bPayment {
    /// Reads a confirmation or validation body.
    pub fn parse(body: &[u8]) -> Result<Self, MalformedCallback> {
        let json = parse_body(body)?;
        let root = Node::root(&json);
        let trans_id = root.field("TransID")?.receipt()?;
        let amount = root.field("TransAmount")?.amount_text_or_number()?;
        let bill_ref_number = root.field("BillRefNumber")?.str()?.to_owned();
        let business_short_code = root.field("BusinessShortCode")?.id()?;
        let trans_time = match non_empty(root.optional("TransTime")?) {
            Some(time) => Some(time.nairobi_time(Digits::NumberOrString)?),
            None => None,
        };
        let msisdn = match non_empty(root.optional("MSISDN")?) {
            Some(msisdn) => Some(msisdn.text()?),
            None => None,
        };
        let mut names = Vec::with_capacity(3);
        for field in ["FirstName", "MiddleName", "LastName"] {
            if let Some(name) = root.optional(field)? {
                let name = name.str()?.trim();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
        let transaction_type = match root.optional("TransactionType")? {
            Some(kind) => Some(kind.str()?.to_owned()).filter(|kind| !kind.is_empty()),
            None => None,
        };
        Ok(Self {
            trans_id,
            trans_time,
            amount,
            bill_ref_number,
            msisdn,
            payer_name: (!names.is_empty()).then(|| names.join(" ")),
            business_short_code,
            transaction_type,
        })
    }
}

/// An optional field, treating `""` as absent.
fn non_empty(node: Option<Node<'_>>) -> Option<Node<'_>> {
    node.filter(|node| !matches!(node.str(), Ok("")))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;
    use crate::callbacks::Problem;

    /// Daraja's documented confirmation.
    fn confirmation() -> Value {
        json!({
            "TransactionType": "Pay Bill",
            "TransID": "RKTQDM7W6S",
            "TransTime": "20191122063845",
            "TransAmount": "10.00",
            "BusinessShortCode": "600638",
            "BillRefNumber": "invoice008",
            "InvoiceNumber": "",
            "OrgAccountBalance": "49197.00",
            "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": ""
        })
    }

    fn parse(body: &Value) -> Result<C2bPayment, MalformedCallback> {
        C2bPayment::parse(body.to_string().as_bytes())
    }

    fn problem_at(body: &Value) -> (String, Problem) {
        let error = parse(body).expect_err("malformed");
        (error.path, error.problem)
    }

    #[test]
    fn reads_a_confirmation() {
        let payment = parse(&confirmation()).expect("payment");
        assert_eq!(payment.trans_id.as_str(), "RKTQDM7W6S");
        assert_eq!(payment.trans_time, Some(datetime!(2019-11-22 03:38:45 UTC)));
        assert_eq!(payment.amount.to_string(), "10.00");
        assert_eq!(payment.bill_ref_number, "invoice008");
        assert_eq!(payment.msisdn.as_deref(), Some("2547 ***** 126"));
        assert_eq!(payment.payer_name.as_deref(), Some("John"));
        assert_eq!(payment.business_short_code, "600638");
        assert_eq!(payment.transaction_type.as_deref(), Some("Pay Bill"));
    }

    #[test]
    fn names_are_joined_and_blank_ones_dropped() {
        let mut body = confirmation();
        body["FirstName"] = json!(" Wanjiku ");
        body["MiddleName"] = json!("");
        body["LastName"] = json!("Kamau");
        assert_eq!(
            parse(&body).expect("payment").payer_name.as_deref(),
            Some("Wanjiku Kamau")
        );
        for field in ["FirstName", "MiddleName", "LastName"] {
            body.as_object_mut().expect("object").remove(field);
        }
        assert_eq!(parse(&body).expect("payment").payer_name, None);
        body["FirstName"] = json!("  ");
        assert_eq!(parse(&body).expect("payment").payer_name, None);
    }

    #[test]
    fn an_empty_bill_ref_is_kept_and_optional_fields_may_be_blank() {
        let mut body = confirmation();
        body["BillRefNumber"] = json!("");
        body["MSISDN"] = json!("");
        body["TransTime"] = json!("");
        body.as_object_mut()
            .expect("object")
            .remove("TransactionType");
        let payment = parse(&body).expect("payment");
        assert_eq!(payment.bill_ref_number, "");
        assert_eq!(payment.msisdn, None);
        assert_eq!(payment.trans_time, None);
        assert_eq!(payment.transaction_type, None);
        body["BillRefNumber"] = json!(" Inv 008 ");
        assert_eq!(parse(&body).expect("payment").bill_ref_number, " Inv 008 ");
    }

    #[test]
    fn numbers_are_read_where_daraja_writes_digits_as_strings() {
        let mut body = confirmation();
        body["TransAmount"] = json!(10);
        body["TransTime"] = json!(20191122063845_u64);
        body["BusinessShortCode"] = json!(600638);
        body["MSISDN"] = json!(254708374149_u64);
        let payment = parse(&body).expect("payment");
        assert_eq!(payment.amount.to_string(), "10.00");
        assert_eq!(payment.trans_time, Some(datetime!(2019-11-22 03:38:45 UTC)));
        assert_eq!(payment.business_short_code, "600638");
        assert_eq!(payment.msisdn.as_deref(), Some("254708374149"));
        body["TransAmount"] = json!(10.5);
        assert_eq!(parse(&body).expect("payment").amount.to_string(), "10.50");
    }

    #[test]
    fn required_fields_must_be_there() {
        for field in [
            "TransID",
            "TransAmount",
            "BillRefNumber",
            "BusinessShortCode",
        ] {
            let mut body = confirmation();
            body.as_object_mut().expect("object").remove(field);
            assert_eq!(problem_at(&body), (field.to_owned(), Problem::Missing));
        }
    }

    #[test]
    fn bad_amounts_are_malformed() {
        let invalid = Problem::Invalid("an amount above 0 with at most 2 decimal places");
        for amount in [
            json!("0"),
            json!("0.00"),
            json!("-10.00"),
            json!("10.005"),
            json!("10,00"),
            json!("1e3"),
            json!(" 10.00"),
            json!(""),
            json!(0),
            json!(-1),
        ] {
            let mut body = confirmation();
            body["TransAmount"] = amount.clone();
            assert_eq!(
                problem_at(&body),
                ("TransAmount".to_owned(), invalid),
                "{amount}"
            );
        }
        let mut body = confirmation();
        body["TransAmount"] = json!(["10.00"]);
        assert_eq!(
            problem_at(&body),
            (
                "TransAmount".to_owned(),
                Problem::WrongType("a decimal string or a number")
            )
        );
    }

    #[test]
    fn wrong_types_and_shapes_are_malformed() {
        for (field, value, problem) in [
            (
                "TransID",
                json!("rktqdm7w6s"),
                Problem::Invalid("an M-Pesa receipt number"),
            ),
            ("TransID", json!(12345678), Problem::WrongType("a string")),
            ("BillRefNumber", json!(8), Problem::WrongType("a string")),
            (
                "BusinessShortCode",
                json!(""),
                Problem::Invalid("a non-empty identifier"),
            ),
            (
                "TransTime",
                json!("2019-11-22"),
                Problem::Invalid("a YYYYMMDDHHmmss timestamp"),
            ),
            ("FirstName", json!(1), Problem::WrongType("a string")),
            (
                "MSISDN",
                json!({"hash": "x"}),
                Problem::WrongType("a string or an integer"),
            ),
        ] {
            let mut body = confirmation();
            body[field] = value;
            assert_eq!(problem_at(&body), (field.to_owned(), problem), "{field}");
        }
        let nested = json!({"Body": confirmation()});
        assert_eq!(
            problem_at(&nested),
            ("TransID".to_owned(), Problem::Missing)
        );
        assert_eq!(
            problem_at(&json!([confirmation()])),
            (String::new(), Problem::WrongType("an object"))
        );
    }

    #[test]
    fn debug_hides_the_payer() {
        let mut body = confirmation();
        body["MSISDN"] = json!("254708374149");
        let shown = format!("{:?}", parse(&body).expect("payment"));
        assert!(
            !shown.contains("708374149") && !shown.contains("John"),
            "{shown}"
        );
    }
}
