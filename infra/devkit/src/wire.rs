//! Time on the wire, measured below the SDK: an HTTP client that wraps the SDK's own,
//! reads each response body in full before handing it back, and adds up the time during
//! which at least one request is between being sent and having its whole response read
//! (so requests in parallel count once). Subtracted from a request's latency
//! (`make bench`'s *own time*), it leaves what the function itself spends: our code, the
//! SDK's serialisation and its parsing of the response — never waiting on the emulator,
//! however it streams its bodies.

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

impl WireTimer {
    /// Time during which a request was on the wire, so far (requests that ended).
    pub fn waited(&self) -> Duration {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Wire> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sent(&self) {
        let mut wire = self.lock();
        if wire.in_flight == 0 {
            wire.since = Some(Instant::now());
        }
        wire.in_flight += 1;
    }

    fn answered(&self) {
        let mut wire = self.lock();
        wire.in_flight = wire.in_flight.saturating_sub(1);
        if wire.in_flight == 0
            && let Some(since) = wire.since.take()
        {
            wire.total += since.elapsed();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_requests_count_once() {
        let timer = WireTimer::default();
        timer.sent();
        timer.sent();
        std::thread::sleep(Duration::from_millis(20));
        timer.answered();
        assert_eq!(timer.waited(), Duration::ZERO, "one still on the wire");
        timer.answered();
        let once = timer.waited();
        assert!(once >= Duration::from_millis(20) && once < Duration::from_millis(40));
    }
}
