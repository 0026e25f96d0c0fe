//! Payments as stored: inside their order's item (the `payments` list, oldest first, so
//! one read shows the order with its payments), or, for a payment that named no order,
//! an item of its own (`PAYMENT#<id>`); and the claims that make an M-Pesa receipt and a
//! prompt's `CheckoutRequestID` unique (`MPESA_RECEIPT#<receipt>`,
//! `MPESA_CHECKOUT#<checkout id>`), each naming its payment and order.
//!
//! Amounts are whole cents (`amount_cents`, exact integers), as everywhere in the table.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::payment::{
    MpesaResult, Payment, PaymentMethod, PaymentState, Receipt, Reversal, ReversalState,
};
use domain::payment_use_cases::{Claim, PromptRef, UnmatchedPayment};
use domain::{Money, OrderId, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Gsi2, ItemHead, decode, encode};
use crate::failure::Failure;
use crate::item::Item;
use crate::keys;

const PAYMENT: &str = "payment";
const CLAIM: &str = "payment claim";

fn invalid(what: &str) -> Failure {
    Failure::record(PAYMENT, format!("invalid {what}"))
}

fn timestamp(raw: &str) -> Result<Timestamp, Failure> {
    Timestamp::parse(raw).map_err(|_| invalid("timestamp"))
}

/// A reversal, inside its payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReversalRecord {
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result_code: Option<String>,
    at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conversation_id: Option<String>,
    attempts: u32,
}

/// One payment, inside its order's `payments` list (or its own item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PaymentRecord {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    method: String,
    status: String,
    amount_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkout_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reversal: Option<ReversalRecord>,
    created_at: String,
    updated_at: String,
}

impl PaymentRecord {
    pub fn of(payment: &Payment) -> Result<Self, Failure> {
        Ok(Self {
            id: payment.id.to_string(),
            order_id: payment.order_id.map(|id| id.to_string()),
            method: payment.method.as_str().to_owned(),
            status: payment.state.as_str().to_owned(),
            amount_cents: i64::try_from(payment.amount.minor_units())
                .map_err(|_| invalid("amount"))?,
            phone_number: payment.phone_number.clone(),
            payer_name: payment.payer_name.clone(),
            receipt: payment.receipt.as_ref().map(|r| r.as_str().to_owned()),
            checkout_request_id: payment.checkout_request_id.clone(),
            account_reference: payment.account_reference.clone(),
            result_code: payment.result.as_ref().and_then(|r| r.code.clone()),
            result_description: payment.result.as_ref().map(|r| r.description.clone()),
            reversal: payment.reversal.as_ref().map(|r| ReversalRecord {
                status: r.state.as_str().to_owned(),
                result_code: r.result_code.clone(),
                at: r.at.to_string(),
                conversation_id: r.conversation_id.clone(),
                attempts: r.attempts,
            }),
            created_at: payment.created_at.to_string(),
            updated_at: payment.updated_at.to_string(),
        })
    }

    pub fn into_payment(self) -> Result<Payment, Failure> {
        let reversal = self
            .reversal
            .map(|r| {
                Ok::<_, Failure>(Reversal {
                    state: ReversalState::parse(&r.status).ok_or_else(|| invalid("reversal"))?,
                    result_code: r.result_code,
                    at: timestamp(&r.at)?,
                    conversation_id: r.conversation_id,
                    attempts: r.attempts,
                })
            })
            .transpose()?;
        Ok(Payment {
            id: self.id.parse().map_err(|_| invalid("id"))?,
            order_id: self
                .order_id
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| invalid("order_id"))?,
            method: PaymentMethod::parse(&self.method).ok_or_else(|| invalid("method"))?,
            state: PaymentState::parse(&self.status).ok_or_else(|| invalid("status"))?,
            amount: Money::from_minor_units(self.amount_cents),
            phone_number: self.phone_number,
            payer_name: self.payer_name,
            receipt: self
                .receipt
                .as_deref()
                .map(Receipt::parse)
                .transpose()
                .map_err(|_| invalid("receipt"))?,
            checkout_request_id: self.checkout_request_id,
            account_reference: self.account_reference,
            result: self.result_description.map(|description| MpesaResult {
                code: self.result_code,
                description,
            }),
            reversal,
            created_at: timestamp(&self.created_at)?,
            updated_at: timestamp(&self.updated_at)?,
        })
    }
}

/// An order's payments as the `payments` attribute an update sets.
pub(crate) fn encode_payments(payments: &[Payment]) -> Result<AttributeValue, Failure> {
    let records = payments
        .iter()
        .map(PaymentRecord::of)
        .collect::<Result<Vec<_>, _>>()?;
    serde_dynamo::to_attribute_value(records).map_err(|e| Failure::record(PAYMENT, e))
}

/// A payment that named no order, as its own item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UnmatchedRecord {
    #[serde(flatten)]
    head: ItemHead,
    /// Present until staff assign it (the unmatched list).
    #[serde(flatten)]
    unmatched: Option<Gsi2>,
    #[serde(flatten)]
    payment: PaymentRecord,
    paid_at: String,
    /// The order staff assigned it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assigned_order_id: Option<String>,
}

/// The item of an unmatched payment.
pub(crate) fn encode_unmatched(unmatched: &UnmatchedPayment) -> Result<Item, Failure> {
    encode(
        PAYMENT,
        &UnmatchedRecord {
            head: ItemHead::new(
                keys::unmatched_payment(unmatched.payment.id),
                keys::entity::PAYMENT,
            ),
            unmatched: unmatched.assigned_to.is_none().then(|| {
                Gsi2::new(
                    keys::UNMATCHED_PAYMENTS,
                    keys::unmatched_payment_order(unmatched.payment.id),
                )
            }),
            payment: PaymentRecord::of(&unmatched.payment)?,
            paid_at: unmatched.paid_at.to_string(),
            assigned_order_id: unmatched.assigned_to.map(|id| id.to_string()),
        },
    )
}

/// The unmatched payment a stored item holds.
pub(crate) fn decode_unmatched(item: Item) -> Result<UnmatchedPayment, Failure> {
    let r: UnmatchedRecord = decode(PAYMENT, item)?;
    let assigned_to = r
        .assigned_order_id
        .map(|id| id.parse().map_err(|_| invalid("assigned order id")))
        .transpose()?;
    Ok(UnmatchedPayment {
        paid_at: timestamp(&r.paid_at)?,
        payment: r.payment.into_payment()?,
        assigned_to,
    })
}

/// A receipt's or a checkout id's claim: which payment (and order) holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ClaimRecord {
    #[serde(flatten)]
    head: ItemHead,
    payment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
}

/// The item of `claim`.
pub(crate) fn encode_claim(claim: &Claim) -> Result<Item, Failure> {
    let (key, entity, payment_id, order_id) = match claim {
        Claim::Checkout {
            checkout_request_id,
            order_id,
            payment_id,
        } => (
            keys::checkout_claim(checkout_request_id),
            keys::entity::CHECKOUT_CLAIM,
            payment_id,
            Some(*order_id),
        ),
        Claim::Receipt {
            receipt,
            order_id,
            payment_id,
        } => (
            keys::receipt_claim(receipt),
            keys::entity::RECEIPT_CLAIM,
            payment_id,
            *order_id,
        ),
        Claim::Reversal {
            conversation_id,
            order_id,
            payment_id,
        } => (
            keys::reversal_claim(conversation_id),
            keys::entity::REVERSAL_CLAIM,
            payment_id,
            Some(*order_id),
        ),
    };
    encode(
        CLAIM,
        &ClaimRecord {
            head: ItemHead::new(key, entity),
            payment_id: payment_id.to_string(),
            order_id: order_id.map(|id: OrderId| id.to_string()),
        },
    )
}

/// Where a checkout id's (or a reversal's) claim leads.
pub(crate) fn decode_prompt_ref(item: Item) -> Result<PromptRef, Failure> {
    let r: ClaimRecord = decode(CLAIM, item)?;
    let bad = || Failure::record(CLAIM, "invalid ids");
    Ok(PromptRef {
        payment_id: r.payment_id.parse().map_err(|_| bad())?,
        order_id: r
            .order_id
            .as_deref()
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use domain::payment::{PaymentId, PromptOutcome};

    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    #[test]
    fn payments_round_trip_with_their_reversal() {
        let mut payment = Payment::prompt(
            PaymentId::generate(),
            OrderId::generate(),
            Money::from_minor_units(116_100),
            "+254712345678".into(),
            at("2026-12-06T10:00:00Z"),
        );
        payment.accepted(
            "ws_CO_061220261000001234".into(),
            at("2026-12-06T10:00:01Z"),
        );
        payment.attach_receipt(
            Receipt::parse("SLJ7RT61SV").expect("r"),
            at("2026-12-06T10:00:02Z"),
        );
        payment.settle(&PromptOutcome::Confirmed, at("2026-12-06T10:00:03Z"));
        payment
            .request_reversal(at("2026-12-06T11:00:00Z"))
            .expect("reversible");
        let back = PaymentRecord::of(&payment)
            .expect("record")
            .into_payment()
            .expect("payment");
        assert_eq!(back, payment);
        let record = serde_dynamo::to_item::<_, Item>(PaymentRecord::of(&payment).expect("r"))
            .expect("item");
        assert_eq!(
            record
                .get("amount_cents")
                .and_then(|v| v.as_n().ok())
                .map(String::as_str),
            Some("116100")
        );
    }

    #[test]
    fn claims_name_their_payment_and_order() {
        let (order_id, payment_id) = (OrderId::generate(), PaymentId::generate());
        let item = encode_claim(&Claim::Checkout {
            checkout_request_id: "ws_CO_1".into(),
            order_id,
            payment_id,
        })
        .expect("claim");
        assert_eq!(
            decode_prompt_ref(item).expect("ref"),
            PromptRef {
                order_id,
                payment_id
            }
        );
    }
}
