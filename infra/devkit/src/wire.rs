//! Time on the wire, measured below the SDK: an HTTP client that wraps the SDK's own,
//! reads each response body in full before handing it back, and adds up the time from
//! sending a request to holding its whole response. Subtracted from a request's latency
//! (`make bench`'s *own time*), it leaves what the function itself spends: our code, the
//! SDK's serialisation and its parsing of the response — never waiting on the emulator,
//! however it streams its bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    nanos: Arc<AtomicU64>,
}

impl WireTimer {
    /// Time spent on the wire so far.
    pub fn waited(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// `inner`, timed.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(Timed {
            inner,
            timer: self.clone(),
        })
    }

    fn add(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
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
            let started = Instant::now();
            let mut response = inner.call(request).await?;
            let body = response.take_body();
            let bytes = body.collect().await.map_err(ConnectorError::io)?.to_bytes();
            *response.body_mut() = SdkBody::from(bytes);
            timer.add(started.elapsed());
            Ok(response)
        })
    }
}
