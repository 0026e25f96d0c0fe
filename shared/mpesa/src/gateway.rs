//! The payments service's [`MpesaGateway`] on Daraja: prompts post their result to our
//! STK callback route and reversals to our reversal routes, whose paths carry the secret
//! callback token.
//!
//! Invariants: a prompt Daraja refused, or never sent for want of a token, is
//! [`GatewayError::Refused`] (nothing was taken: the order's slot is freed); anything
//! after which M-Pesa may have taken it is [`GatewayError::NoAnswer`] (the payment stays
//! pending). The callback URL is never logged (it holds the token).

use std::fmt;

use domain::Money;
use domain::payment::Receipt;
use domain::payment_use_cases::{GatewayError, MpesaGateway, PromptRequest, QueryAnswer};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::{Daraja, DarajaError, Reversal, Shillings, StkPush, StkQueryAnswer};

/// What a prompt shows the payer as its description (Daraja allows 13 characters).
pub const PROMPT_DESCRIPTION: &str = "Order payment";
/// A reversal's `Remarks` (2 to 100 characters).
pub const REVERSAL_REMARKS: &str = "Refund of a cancelled order";

/// [`MpesaGateway`] on a [`Daraja`] client.
#[derive(Clone)]
pub struct DarajaGateway {
    daraja: Daraja,
    /// `…/payments/callbacks/<token>`: a secret, as the token in it is; the STK and
    /// reversal routes are below it.
    callbacks: SecretString,
}

impl fmt::Debug for DarajaGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DarajaGateway")
            .field("daraja", &self.daraja)
            .field("callbacks", &"<redacted>")
            .finish()
    }
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the callback base URL cannot take the callback path")]
pub struct BadCallbackBase;

impl DarajaGateway {
    /// Prompts post to `callback_base/<token>/stk` (`callback_base` is the public
    /// `…/api/v1/payments/callbacks`).
    pub fn new(
        daraja: Daraja,
        callback_base: &Url,
        token: &SecretString,
    ) -> Result<Self, BadCallbackBase> {
        let mut url = callback_base.clone();
        url.path_segments_mut()
            .map_err(|()| BadCallbackBase)?
            .pop_if_empty()
            .push(token.expose_secret());
        Ok(Self {
            daraja,
            callbacks: SecretString::from(url.to_string()),
        })
    }

    /// The callback URL at `path` below the token.
    fn callback(&self, path: &[&str]) -> Result<Url, GatewayError> {
        let invalid = || GatewayError::Refused {
            code: "invalid_callback".into(),
            description: "the callback URL is not a URL".into(),
        };
        let mut url = Url::parse(self.callbacks.expose_secret()).map_err(|_| invalid())?;
        url.path_segments_mut()
            .map_err(|()| invalid())?
            .extend(path);
        Ok(url)
    }
}

fn shillings(amount: Money) -> Result<Shillings, GatewayError> {
    Shillings::from_money(amount).map_err(|e| GatewayError::Refused {
        code: "invalid_amount".into(),
        description: e.to_string(),
    })
}

fn gateway_error(err: DarajaError) -> GatewayError {
    if err.not_taken() {
        let (code, description) = match &err {
            DarajaError::Refused(refusal) => (refusal.code.clone(), refusal.description.clone()),
            other => (other.kind().to_owned(), other.to_string()),
        };
        GatewayError::Refused { code, description }
    } else {
        GatewayError::NoAnswer(err.kind().to_owned())
    }
}

impl MpesaGateway for DarajaGateway {
    async fn prompt(&self, request: &PromptRequest) -> Result<String, GatewayError> {
        let push = StkPush {
            amount: shillings(request.amount)?,
            phone: request.phone.clone(),
            account_reference: request.account_reference.clone(),
            transaction_desc: PROMPT_DESCRIPTION.into(),
            callback_url: self.callback(&["stk"])?,
        };
        self.daraja
            .stk_push(&push)
            .await
            .map(|accepted| accepted.checkout_request_id)
            .map_err(gateway_error)
    }

    async fn query(&self, checkout_request_id: &str) -> Result<QueryAnswer, GatewayError> {
        match self.daraja.stk_query(checkout_request_id).await {
            Ok(StkQueryAnswer::Pending) => Ok(QueryAnswer::Pending),
            Ok(StkQueryAnswer::Completed {
                result_code,
                result_desc,
            }) => Ok(QueryAnswer::Completed {
                code: result_code.as_str().to_owned(),
                description: result_desc,
            }),
            Err(err) => Err(gateway_error(err)),
        }
    }

    async fn reverse(&self, receipt: &Receipt, amount: Money) -> Result<String, GatewayError> {
        let reversal = Reversal {
            receipt: receipt.clone(),
            amount: shillings(amount)?,
            remarks: REVERSAL_REMARKS.into(),
            occasion: String::new(),
            result_url: self.callback(&["reversal", "result"])?,
            queue_timeout_url: self.callback(&["reversal", "timeout"])?,
        };
        self.daraja
            .reverse(&reversal)
            .await
            .map(|accepted| accepted.conversation_id)
            .map_err(gateway_error)
    }
}
