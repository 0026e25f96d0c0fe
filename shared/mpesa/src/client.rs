//! The Daraja client: configuration, endpoints, the access token and the one way every
//! call is made (a JSON `POST` with a Bearer token, retried once with a new token when
//! Daraja says the token is invalid).
//!
//! Invariants:
//! - Endpoints are the base URL's path plus Daraja's: a base with or without a trailing
//!   slash (or with a path prefix, for a local stand-in) gives the same endpoints; its
//!   query and fragment are dropped.
//! - Secrets are exposed only into request headers and bodies; `Debug` shows none.
//! - A call is sent at most twice, and twice only when the first answer was
//!   `404.001.03` (the token was refused before the request was looked at).
//! - Redirects are not followed: a 3xx is an answer we cannot read.
//! - Log lines carry the operation, HTTP status, Daraja's codes and kinds of failure,
//!   never a phone number, a name, a token or a secret.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::auth::{TokenCache, classify_token};
use crate::error::{DarajaError, NoAnswer, TokenFailure};

/// Daraja's sandbox.
pub const SANDBOX_BASE_URL: &str = "https://sandbox.safaricom.co.ke";
/// Daraja in production.
pub const PRODUCTION_BASE_URL: &str = "https://api.safaricom.co.ke";
const PRODUCTION_HOST: &str = "api.safaricom.co.ke";

/// How to reach Daraja and act for our Paybill.
#[derive(Debug, Clone)]
pub struct DarajaConfig {
    /// [`SANDBOX_BASE_URL`], [`PRODUCTION_BASE_URL`] or a local stand-in.
    pub base_url: Url,
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    /// The Paybill (`BusinessShortCode`), e.g. `"174379"`.
    pub shortcode: String,
    /// The Lipa na M-Pesa Online passkey (STK password).
    pub passkey: SecretString,
    /// The API operator's user name (`Initiator`), for reversals.
    pub initiator_name: String,
    /// The initiator's password encrypted with Safaricom's certificate, base64.
    pub security_credential: SecretString,
    /// Whole-request timeout of each HTTP call; keep it well under the Lambda's.
    pub timeout: Duration,
}

/// Why a [`Daraja`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DarajaBuildError {
    #[error("the Daraja base URL cannot be a base for API paths")]
    BadBaseUrl,
}

/// The time of day, injectable for tests.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Daraja's endpoints under one base URL.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub(crate) oauth: Url,
    pub(crate) stk_push: Url,
    pub(crate) stk_query: Url,
    pub(crate) c2b_register: Url,
    pub(crate) c2b_simulate: Url,
    pub(crate) reversal: Url,
}

impl Endpoints {
    fn under(base: &Url) -> Result<Self, DarajaBuildError> {
        let at = |segments: &[&str]| -> Result<Url, DarajaBuildError> {
            let mut url = base.clone();
            url.set_query(None);
            url.set_fragment(None);
            url.path_segments_mut()
                .map_err(|()| DarajaBuildError::BadBaseUrl)?
                .pop_if_empty()
                .extend(segments);
            Ok(url)
        };
        let mut oauth = at(&["oauth", "v1", "generate"])?;
        oauth.set_query(Some("grant_type=client_credentials"));
        Ok(Self {
            oauth,
            stk_push: at(&["mpesa", "stkpush", "v1", "processrequest"])?,
            stk_query: at(&["mpesa", "stkpushquery", "v1", "query"])?,
            c2b_register: at(&["mpesa", "c2b", "v1", "registerurl"])?,
            c2b_simulate: at(&["mpesa", "c2b", "v1", "simulate"])?,
            reversal: at(&["mpesa", "reversal", "v1", "request"])?,
        })
    }
}

/// A client of Daraja for one Paybill. Cheap to clone: clones share the access token.
#[derive(Debug, Clone)]
pub struct Daraja {
    /// Built on the first call to Daraja (its TLS set-up is not paid at start by a function
    /// instance that never calls M-Pesa), shared by the clones.
    http: Arc<OnceCell<reqwest::Client>>,
    timeout: Duration,
    pub(crate) endpoints: Endpoints,
    base_url: Url,
    consumer_key: SecretString,
    consumer_secret: SecretString,
    pub(crate) shortcode: String,
    pub(crate) passkey: SecretString,
    pub(crate) initiator_name: String,
    pub(crate) security_credential: SecretString,
    pub(crate) clock: Arc<dyn Clock>,
    token: Arc<Mutex<TokenCache>>,
}

impl Daraja {
    /// A client on the machine's clock.
    pub fn new(config: DarajaConfig) -> Result<Self, DarajaBuildError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client reading the time (timestamps, token age) from `clock`.
    pub fn with_clock(
        config: DarajaConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DarajaBuildError> {
        let endpoints = Endpoints::under(&config.base_url)?;
        Ok(Self {
            http: Arc::new(OnceCell::new()),
            timeout: config.timeout,
            endpoints,
            base_url: config.base_url,
            consumer_key: config.consumer_key,
            consumer_secret: config.consumer_secret,
            shortcode: config.shortcode,
            passkey: config.passkey,
            initiator_name: config.initiator_name,
            security_credential: config.security_credential,
            clock,
            token: Arc::new(Mutex::new(TokenCache::default())),
        })
    }

    /// The HTTP client: no redirects, bounded time; built on first use (a client that
    /// cannot be built is a Daraja that cannot be reached).
    async fn http(&self) -> Result<&reqwest::Client, NoAnswer> {
        self.http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout.min(Duration::from_secs(3)))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
            })
            .await
            .map_err(|_| NoAnswer::Unreachable)
    }

    /// The Paybill this client acts for.
    pub fn shortcode(&self) -> &str {
        &self.shortcode
    }

    /// Whether this client talks to Daraja in production.
    pub fn is_production(&self) -> bool {
        self.base_url.host_str() == Some(PRODUCTION_HOST)
    }

    /// A token that may be used now: the kept one while fresh, else a new one (fetched
    /// once however many calls wait for it).
    async fn token(&self) -> Result<(SecretString, u64), DarajaError> {
        let mut cache = self.token.lock().await;
        let issued_at = self.clock.now();
        if let Some(fresh) = cache.fresh(issued_at) {
            return Ok(fresh);
        }
        let answer = self.fetch_token().await.map_err(|failure| {
            tracing::warn!(operation = "oauth", error = %failure, "no Daraja access token");
            DarajaError::NoToken(failure)
        })?;
        tracing::info!(
            operation = "oauth",
            lifetime_s = answer.lifetime.as_secs(),
            "fetched a Daraja access token"
        );
        Ok(cache.keep(answer, issued_at))
    }

    async fn fetch_token(&self) -> Result<crate::auth::TokenAnswer, TokenFailure> {
        let http = self.http().await.map_err(TokenFailure::NoAnswer)?;
        let request = http
            .get(self.endpoints.oauth.clone())
            .basic_auth(
                self.consumer_key.expose_secret(),
                Some(self.consumer_secret.expose_secret()),
            )
            .header(ACCEPT, "application/json");
        let (status, body) = exchange(request).await.map_err(TokenFailure::NoAnswer)?;
        classify_token(status, &body)
    }

    async fn forget_token(&self, generation: u64) {
        self.token.lock().await.forget(generation);
    }

    /// `POST`s `body` to `endpoint` and sorts the answer with `classify`; once more with a
    /// new token when the first token is refused.
    pub(crate) async fn call<B, T>(
        &self,
        operation: &'static str,
        endpoint: &Url,
        body: &B,
        classify: fn(u16, &str) -> Result<T, DarajaError>,
    ) -> Result<T, DarajaError>
    where
        B: Serialize + ?Sized,
    {
        let (token, generation) = self.token().await?;
        let mut result = self.post(endpoint, body, &token, classify).await;
        if matches!(&result, Err(DarajaError::Refused(refusal)) if refusal.is_invalid_token()) {
            tracing::warn!(
                operation,
                "Daraja refused the access token; retrying with a new one"
            );
            self.forget_token(generation).await;
            let (token, _) = self.token().await?;
            result = self.post(endpoint, body, &token, classify).await;
        }
        match &result {
            Ok(_) => tracing::debug!(operation, "Daraja accepted"),
            Err(DarajaError::Refused(refusal)) => tracing::warn!(
                operation,
                http_status = refusal.http_status,
                code = %refusal.code,
                "Daraja refused"
            ),
            Err(error) => {
                tracing::warn!(operation, kind = error.kind(), error = %error, "Daraja call failed")
            }
        }
        result
    }

    async fn post<B, T>(
        &self,
        endpoint: &Url,
        body: &B,
        token: &SecretString,
        classify: fn(u16, &str) -> Result<T, DarajaError>,
    ) -> Result<T, DarajaError>
    where
        B: Serialize + ?Sized,
    {
        let http = self.http().await.map_err(DarajaError::NoAnswer)?;
        let request = http
            .post(endpoint.clone())
            .bearer_auth(token.expose_secret())
            .header(ACCEPT, "application/json")
            .json(body);
        let (status, text) = exchange(request).await.map_err(DarajaError::NoAnswer)?;
        classify(status, &text)
    }
}

/// Sends a request and reads the whole answer.
async fn exchange(request: reqwest::RequestBuilder) -> Result<(u16, String), NoAnswer> {
    let lost = |err: reqwest::Error| {
        if err.is_timeout() {
            NoAnswer::Timeout
        } else {
            NoAnswer::Unreachable
        }
    };
    let response = request.send().await.map_err(lost)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(lost)?;
    Ok((status, body))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config(base_url: &str) -> DarajaConfig {
        DarajaConfig {
            base_url: base_url.parse().expect("url"),
            consumer_key: SecretString::from("consumer-key-123"),
            consumer_secret: SecretString::from("consumer-secret-456"),
            shortcode: "174379".into(),
            passkey: SecretString::from("passkey-789"),
            initiator_name: "testapi".into(),
            security_credential: SecretString::from("credential-abc"),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn endpoints_do_not_depend_on_a_trailing_slash() {
        for base in [
            "https://sandbox.safaricom.co.ke",
            "https://sandbox.safaricom.co.ke/",
        ] {
            let daraja = Daraja::new(config(base)).expect("client");
            let e = &daraja.endpoints;
            assert_eq!(
                e.oauth.as_str(),
                "https://sandbox.safaricom.co.ke/oauth/v1/generate?grant_type=client_credentials"
            );
            assert_eq!(
                e.stk_push.as_str(),
                "https://sandbox.safaricom.co.ke/mpesa/stkpush/v1/processrequest"
            );
            assert_eq!(
                e.stk_query.as_str(),
                "https://sandbox.safaricom.co.ke/mpesa/stkpushquery/v1/query"
            );
            assert_eq!(
                e.c2b_register.as_str(),
                "https://sandbox.safaricom.co.ke/mpesa/c2b/v1/registerurl"
            );
            assert_eq!(
                e.c2b_simulate.as_str(),
                "https://sandbox.safaricom.co.ke/mpesa/c2b/v1/simulate"
            );
            assert_eq!(
                e.reversal.as_str(),
                "https://sandbox.safaricom.co.ke/mpesa/reversal/v1/request"
            );
        }
    }

    #[test]
    fn a_stand_in_may_sit_under_a_path() {
        for base in [
            "http://127.0.0.1:4010/daraja",
            "http://127.0.0.1:4010/daraja/",
            "http://127.0.0.1:4010/daraja/?x=1#y",
        ] {
            let daraja = Daraja::new(config(base)).expect("client");
            assert_eq!(
                daraja.endpoints.stk_push.as_str(),
                "http://127.0.0.1:4010/daraja/mpesa/stkpush/v1/processrequest",
                "{base}"
            );
            assert_eq!(
                daraja.endpoints.oauth.as_str(),
                "http://127.0.0.1:4010/daraja/oauth/v1/generate?grant_type=client_credentials",
                "{base}"
            );
        }
    }

    #[test]
    fn a_base_that_cannot_hold_paths_is_refused() {
        assert!(matches!(
            Daraja::new(config("mailto:ops@example.com")),
            Err(DarajaBuildError::BadBaseUrl)
        ));
    }

    #[test]
    fn production_is_recognised_by_its_host() {
        assert!(
            Daraja::new(config(PRODUCTION_BASE_URL))
                .expect("client")
                .is_production()
        );
        assert!(
            !Daraja::new(config(SANDBOX_BASE_URL))
                .expect("client")
                .is_production()
        );
        assert!(
            !Daraja::new(config("http://localhost:4010"))
                .expect("client")
                .is_production()
        );
    }

    #[test]
    fn calls_can_be_awaited_on_any_thread() {
        fn send<T: Send>(_: &T) {}
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Daraja>();
        let daraja = Daraja::new(config(SANDBOX_BASE_URL)).expect("client");
        let url: Url = "https://shop.example/cb".parse().expect("url");
        let push = crate::StkPush {
            amount: crate::Shillings::new(1).expect("amount"),
            phone: domain::PhoneNumber::parse("0712345678").expect("phone"),
            account_reference: "ORD1".into(),
            transaction_desc: "Order".into(),
            callback_url: url.clone(),
        };
        send(&daraja.stk_push(&push));
        send(&daraja.stk_query("ws_CO_1"));
        let urls = crate::C2bUrls {
            response_type: crate::C2bResponseType::Completed,
            confirmation_url: url.clone(),
            validation_url: url.clone(),
        };
        send(&daraja.register_c2b_urls(&urls));
        let reversal = crate::Reversal {
            receipt: crate::Receipt::parse("OEI2AK4Q16").expect("receipt"),
            amount: crate::Shillings::new(1).expect("amount"),
            remarks: "Refund".into(),
            occasion: String::new(),
            result_url: url.clone(),
            queue_timeout_url: url,
        };
        send(&daraja.reverse(&reversal));
    }

    #[test]
    fn debug_shows_no_secret() {
        let daraja = Daraja::new(config(SANDBOX_BASE_URL)).expect("client");
        let shown = format!("{daraja:?} {:?}", config(SANDBOX_BASE_URL));
        for secret in [
            "consumer-key-123",
            "consumer-secret-456",
            "passkey-789",
            "credential-abc",
        ] {
            assert!(!shown.contains(secret), "{secret}");
        }
    }
}
