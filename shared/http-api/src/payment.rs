//! An M-Pesa payment as the API shows it: inside its order (`GET /orders/{id}`) and in
//! staff's payment lists (`GET /payments`). docs/payments.md.

use domain::payment::{Payment, Reversal};
use domain::{Money, Timestamp};
use serde::Serialize;

/// One M-Pesa payment of an order.
#[derive(Debug, Serialize)]
pub struct PaymentView {
    pub id: String,
    /// `mpesa_prompt` or `mpesa_paybill`.
    pub method: &'static str,
    /// `pending`, `succeeded`, `failed` or `reversed`.
    pub status: &'static str,
    pub amount: Money,
    /// As M-Pesa gives it (masked for Paybill).
    pub phone_number: Option<String>,
    pub payer_name: Option<String>,
    pub receipt: Option<String>,
    pub checkout_request_id: Option<String>,
    pub result_code: Option<String>,
    pub result_description: Option<String>,
    pub reversal: Option<ReversalView>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A payment's reversal.
#[derive(Debug, Serialize)]
pub struct ReversalView {
    /// `requested`, `reversed` or `failed`.
    pub status: &'static str,
    pub result_code: Option<String>,
    pub at: Timestamp,
}

impl From<&Reversal> for ReversalView {
    fn from(reversal: &Reversal) -> Self {
        Self {
            status: reversal.state.as_str(),
            result_code: reversal.result_code.clone(),
            at: reversal.at,
        }
    }
}

impl From<&Payment> for PaymentView {
    fn from(payment: &Payment) -> Self {
        Self {
            id: payment.id.to_string(),
            method: payment.method.as_str(),
            status: payment.state.as_str(),
            amount: payment.amount,
            phone_number: payment.phone_number.clone(),
            payer_name: payment.payer_name.clone(),
            receipt: payment.receipt.as_ref().map(|r| r.as_str().to_owned()),
            checkout_request_id: payment.checkout_request_id.clone(),
            result_code: payment.result.as_ref().and_then(|r| r.code.clone()),
            result_description: payment.result.as_ref().map(|r| r.description.clone()),
            reversal: payment.reversal.as_ref().map(ReversalView::from),
            created_at: payment.created_at,
            updated_at: payment.updated_at,
        }
    }
}
