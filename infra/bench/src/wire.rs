//! Time on the wire, measured below the SDK: an HTTP client that wraps the SDK's own,
//! reads each response body in full before handing it back, and adds up the time during
//! which at least one request is between being sent and having its whole response read
//! (so requests in parallel count once). Subtracted from a request's latency
//! (`make bench`'s *own time*), it leaves what the function itself spends: our code, the
//! SDK's serialisation and its parsing of the response — never waiting on the emulator,
//! however it streams its bodies. The accounting (`Wire`) is told the instants; only the
//! timer reads the clock, so tests prove the arithmetic on instants of their own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;
use testkit::env::RequestCounter;

/// The wire time of every client built with [`WireTimer::wrap`]; clones share it.
#[derive(Debug, Clone, Default)]
pub struct WireTimer {
    state: Arc<Mutex<Wire>>,
}

#[derive(Debug, Default)]
struct Wire {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

/// The accounting, on the instants it is given (the timer gives it the clock's).
impl Wire {
    /// A request sent at `now`.
    fn sent(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.since = Some(now);
        }
        self.in_flight += 1;
    }

    /// A request answered (or failed, or dropped) at `now`.
    fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0
            && let Some(since) = self.since.take()
        {
            self.total += now.saturating_duration_since(since);
        }
    }
}

impl WireTimer {
    /// Time during which a request was on the wire, so far (requests that ended).
    pub fn waited(&self) -> Duration {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Wire> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sent(&self) {
        self.lock().sent(Instant::now());
    }

    fn answered(&self) {
        self.lock().answered(Instant::now());
    }

    /// `inner`, timed.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(Timed {
            inner,
            timer: self.clone(),
        })
    }
}

#[derive(Debug)]
struct Timed {
    inner: SharedHttpClient,
    timer: WireTimer,
}

impl HttpClient for Timed {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(TimedConnector {
            inner: self.inner.http_connector(settings, components),
            timer: self.timer.clone(),
        })
    }
}

#[derive(Debug)]
struct TimedConnector {
    inner: SharedHttpConnector,
    timer: WireTimer,
}

impl HttpConnector for TimedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, timer) = (self.inner.clone(), self.timer.clone());
        HttpConnectorFuture::new(async move {
            timer.sent();
            // Off the wire when answered, failed or dropped (a timeout).
            let _on_wire = OnWire(timer);
            let mut response = inner.call(request).await?;
            let body = response.take_body();
            let bytes = body.collect().await.map_err(ConnectorError::io)?.to_bytes();
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}

/// A request on the wire until dropped.
struct OnWire(WireTimer);

impl Drop for OnWire {
    fn drop(&mut self) {
        self.0.answered();
    }
}

/// A local client whose requests are counted by `counter` and whose time on the wire
/// (send → whole response read) is added to `wire`.
pub fn timed_client(
    endpoint: &str,
    counter: RequestCounter,
    wire: &WireTimer,
) -> aws_sdk_dynamodb::Client {
    let config = testkit::env::local_client(endpoint)
        .config()
        .to_builder()
        .interceptor(counter)
        .http_client(wire.wrap(aws_smithy_http_client::Builder::new().build_http()))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A local SQS client (moto at `endpoint`) whose time on the wire is added to `wire`.
pub fn timed_sqs_client(endpoint: &str, wire: &WireTimer) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(sqs_client(endpoint, wire).build())
}

/// [`timed_sqs_client`], its requests counted by `counter` as well.
pub fn counted_sqs_client(
    endpoint: &str,
    counter: RequestCounter,
    wire: &WireTimer,
) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(sqs_client(endpoint, wire).interceptor(counter).build())
}

fn sqs_client(endpoint: &str, wire: &WireTimer) -> aws_sdk_sqs::config::Builder {
    aws_sdk_sqs::Config::from(&testkit::local_aws_config(endpoint))
        .to_builder()
        .http_client(wire.wrap(aws_smithy_http_client::Builder::new().build_http()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ms` milliseconds after `t0`: the tests feed the accounting instants of their own,
    /// so what they prove does not depend on how fast the machine is.
    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn overlapping_requests_count_once() {
        let (mut wire, t0) = (Wire::default(), Instant::now());
        wire.sent(at(t0, 0));
        wire.sent(at(t0, 5));
        wire.answered(at(t0, 20));
        assert_eq!(wire.total, Duration::ZERO, "one still on the wire");
        wire.answered(at(t0, 30));
        assert_eq!(
            wire.total,
            Duration::from_millis(30),
            "0..30 once, not 30 + 15"
        );
    }

    #[test]
    fn separate_requests_add_up_and_the_gaps_between_them_do_not_count() {
        let (mut wire, t0) = (Wire::default(), Instant::now());
        wire.sent(at(t0, 0));
        wire.answered(at(t0, 10));
        wire.sent(at(t0, 100));
        wire.sent(at(t0, 110));
        wire.answered(at(t0, 120));
        wire.answered(at(t0, 125));
        assert_eq!(wire.total, Duration::from_millis(10 + 25));
    }

    #[test]
    fn a_stray_answer_neither_underflows_nor_counts() {
        let (mut wire, t0) = (Wire::default(), Instant::now());
        wire.answered(at(t0, 10));
        assert_eq!((wire.in_flight, wire.total), (0, Duration::ZERO));
        wire.sent(at(t0, 20));
        wire.answered(at(t0, 30));
        assert_eq!(wire.total, Duration::from_millis(10));
    }

    #[test]
    fn the_timer_shares_its_total_between_clones() {
        let timer = WireTimer::default();
        let clone = timer.clone();
        clone.sent();
        timer.sent();
        clone.answered();
        assert_eq!(timer.waited(), Duration::ZERO, "one still on the wire");
        timer.answered();
        assert_eq!(timer.lock().in_flight, 0);
        assert!(
            timer.lock().since.is_none(),
            "the interval was closed and added"
        );
        assert_eq!(timer.waited(), clone.waited());
    }
}
