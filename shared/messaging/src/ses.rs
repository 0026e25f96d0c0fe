//! The admin's email through Amazon SES v2 (`SendEmail`, simple content: a plain-text and
//! an HTML part, both UTF-8).
//!
//! Invariants:
//! - Sender and recipient are this adapter's configuration, never logged.
//! - Only a malformed request (`BadRequest`) is permanent. Throttling, sending limits, a
//!   paused or suspended account, an unverified identity and every transport failure are
//!   transient: an operator can fix them, and the queue's backoff and dead-letter queue
//!   keep the message until then.

use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent as SesContent, Message};
use domain::notification::{Accepted, EmailContent, EmailSender, SendError};

/// [`EmailSender`] on SES v2.
#[derive(Debug, Clone)]
pub struct SesEmail {
    client: aws_sdk_sesv2::Client,
    from: String,
    to: String,
    configuration_set: Option<String>,
}

impl SesEmail {
    /// Sends from `from` (a verified SES identity) to `to`, optionally through a
    /// configuration set (delivery events, suppression).
    pub fn new(
        client: aws_sdk_sesv2::Client,
        from: impl Into<String>,
        to: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            from: from.into(),
            to: to.into(),
            configuration_set,
        }
    }
}

fn utf8(data: &str) -> Result<Content, SendError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|_| SendError::permanent("bad_request", "email content could not be built"))
}

impl EmailSender for SesEmail {
    async fn send_email(&self, email: &EmailContent) -> Result<Accepted, SendError> {
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&email.text)?)
                    .html(utf8(&email.html)?)
                    .build(),
            )
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&self.to).build())
            .content(SesContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(classify)?;
        Ok(Accepted {
            message_id: output.message_id,
        })
    }
}

/// Sorts an SES failure into transient or permanent.
fn classify(err: SdkError<SendEmailError>) -> SendError {
    let service = match err {
        SdkError::TimeoutError(_) => return SendError::transient("timeout", "SES timed out"),
        SdkError::DispatchFailure(_) => {
            return SendError::transient("network", "SES could not be reached");
        }
        SdkError::ServiceError(service) => service.into_err(),
        other => {
            let status = other.raw_response().map(|r| r.status().as_u16());
            return SendError::transient("http_error", format!("SES answered {status:?}"));
        }
    };
    let (permanent, class) = match &service {
        SendEmailError::BadRequestException(_) => (true, "bad_request"),
        SendEmailError::TooManyRequestsException(_) => (false, "throttled"),
        SendEmailError::LimitExceededException(_) => (false, "limit_exceeded"),
        SendEmailError::MessageRejected(_) => (false, "message_rejected"),
        SendEmailError::MailFromDomainNotVerifiedException(_) => {
            (false, "mail_from_domain_not_verified")
        }
        SendEmailError::SendingPausedException(_) => (false, "sending_paused"),
        SendEmailError::AccountSuspendedException(_) => (false, "account_suspended"),
        SendEmailError::NotFoundException(_) => (false, "not_found"),
        _ => (false, "ses_error"),
    };
    let detail = format!(
        "SES {}",
        aws_sdk_sesv2::error::ProvideErrorMetadata::code(&service).unwrap_or("error")
    );
    if permanent {
        SendError::permanent(class, detail)
    } else {
        SendError::transient(class, detail)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sesv2::config::http::HttpResponse;
    use aws_sdk_sesv2::types::error::{
        BadRequestException, MessageRejected, TooManyRequestsException,
    };
    use aws_smithy_types::body::SdkBody;
    use domain::notification::{ErrorClass, Outcome};

    use super::*;

    fn service(err: SendEmailError, status: u16) -> SdkError<SendEmailError> {
        let status = status.try_into().expect("status");
        SdkError::service_error(err, HttpResponse::new(status, SdkBody::empty()))
    }

    #[test]
    fn only_a_bad_request_is_permanent() {
        let bad = SendEmailError::BadRequestException(
            BadRequestException::builder()
                .message("Missing final '@domain'")
                .build(),
        );
        assert_eq!(
            classify(service(bad, 400)).outcome(),
            Outcome::Permanent(ErrorClass::new("bad_request"))
        );
        let throttled =
            SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build());
        assert_eq!(
            classify(service(throttled, 429)).outcome(),
            Outcome::Transient(ErrorClass::new("throttled"))
        );
        let rejected = SendEmailError::MessageRejected(
            MessageRejected::builder()
                .message("Email address is not verified: shop@example.com")
                .build(),
        );
        let err = classify(service(rejected, 400));
        assert_eq!(
            err.outcome(),
            Outcome::Transient(ErrorClass::new("message_rejected"))
        );
        assert!(!err.to_string().contains("shop@example.com"), "{err}");
        assert_eq!(
            classify(SdkError::timeout_error("slow")).outcome(),
            Outcome::Transient(ErrorClass::new("timeout"))
        );
    }
}
