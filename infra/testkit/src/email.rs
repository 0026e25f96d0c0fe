//! Email on the local emulator: SES v2 on the moto server, the sender identity the
//! notifier needs (SES refuses unverified senders), and the emails SES "sent", read from
//! the emulator's state (`GET /moto-api/data.json`, `ses.Message`).

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::operation::create_email_identity::CreateEmailIdentityError;
use serde_json::Value;

use crate::KitError;

/// An SES v2 client for the moto server at `endpoint`, with static test credentials.
pub fn local_ses_client(endpoint: &str) -> Client {
    Client::new(&crate::local_aws_config(endpoint))
}

/// Makes `address` a (verified) sending identity; one that exists already is fine.
pub async fn ensure_identity(client: &Client, address: &str) -> Result<(), KitError> {
    match client
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) => match err.into_service_error() {
            CreateEmailIdentityError::AlreadyExistsException(_) => Ok(()),
            other => Err(KitError::Other(format!("SES identity {address}: {other}"))),
        },
    }
}

/// Every email the emulator's SES accepted for `to`, oldest first: objects with `id`,
/// `source`, `destinations`, `subject` and `body` (the HTML part).
pub async fn sent_to(endpoint: &str, to: &str) -> Result<Vec<Value>, KitError> {
    let url = format!("{endpoint}/moto-api/data.json");
    let state: Value = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| KitError::Other(format!("{url}: {e}")))?
        .json()
        .await
        .map_err(|e| KitError::Other(format!("{url}: {e}")))?;
    Ok(state["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to_addresses| to_addresses.iter().any(|a| a == to))
        })
        .cloned()
        .collect())
}
