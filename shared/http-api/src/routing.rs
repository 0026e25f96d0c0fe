//! Router state and the fallbacks that keep unknown routes and wrong methods inside the
//! problem+json contract.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodFilter, on};

use crate::auth::TokenVerifier;
use crate::problem::ApiError;

/// What every handler of a function can reach: its store and the token verifier.
#[derive(Debug, Clone)]
pub struct AppState<S> {
    /// What the handlers run on: the function's use cases (or its store, where the route
    /// area has no use-case layer yet).
    pub services: S,
    pub verifier: Arc<TokenVerifier>,
}

impl<S> FromRef<AppState<S>> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState<S>) -> Self {
        state.verifier.clone()
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Adds 404 and 405 problem responses to `router`.
pub fn with_fallbacks<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// A router that remembers its routes, so tests can compare them with template.yaml and
/// the local emulator's routing. Each route is one method on one path.
#[derive(Debug)]
pub struct RouteTable<S> {
    router: Router<S>,
    routes: Vec<(Method, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Default for RouteTable<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            routes: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `method` requests for `path` to `handler`.
    pub fn route<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = match method.as_str() {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            other => panic!("unsupported method {other} in the route table"),
        };
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push((method, path));
        self
    }

    /// `(method, path)` of every route, in the order they were added.
    pub fn routes(&self) -> &[(Method, &'static str)] {
        &self.routes
    }

    /// The router, with the 404/405 problem fallbacks.
    pub fn into_router(self) -> Router<S> {
        with_fallbacks(self.router)
    }
}

/// The finished router of a function: its routes, the problem fallbacks, token
/// verification for every request that carries a token, an access log, and the state.
pub fn serve<St: Clone + Send + Sync + 'static>(
    routes: RouteTable<AppState<St>>,
    state: AppState<St>,
) -> Router {
    let verifier = state.verifier.clone();
    routes
        .into_router()
        .layer(axum::middleware::from_fn_with_state(
            verifier,
            crate::auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// The finished router of a function whose routes are all public (no bearer token is
/// looked at): its routes, the problem fallbacks, an access log, and the state.
pub fn serve_public<St: Clone + Send + Sync + 'static>(
    routes: RouteTable<St>,
    state: St,
) -> Router {
    routes
        .into_router()
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// Logs one structured line per request: method, route template (never ids or query
/// values, which may identify people), status and latency.
async fn access_log(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::body::Body;
    use tower::ServiceExt;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// Collects everything the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn verifier() -> Arc<TokenVerifier> {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let mut jwk: serde_json::Value =
            serde_json::from_str(&secret.public_key().to_jwk_string()).expect("jwk");
        jwk["kid"] = "k1".into();
        let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
        Arc::new(TokenVerifier::from_jwks(&jwks, "iss", "aud").expect("verifier"))
    }

    async fn item() -> &'static str {
        "ok"
    }

    /// The `request` lines the access log wrote, as their JSON `fields`.
    fn access_lines(logs: &Captured) -> Vec<serde_json::Value> {
        let text = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8");
        text.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON log line"))
            .map(|line| line["fields"].clone())
            .filter(|fields| fields["message"] == "request")
            .collect()
    }

    #[tokio::test]
    async fn access_log_names_the_route_template_never_the_ids_or_query() {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(logs.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = serve(
            RouteTable::new().route(Method::GET, "/items/{id}", item),
            AppState {
                services: (),
                verifier: verifier(),
            },
        );

        for (uri, status) in [
            ("/items/SECRET-ID?q=private", 200),
            ("/elsewhere/PRIVATE", 404),
        ] {
            let request = Request::get(uri).body(Body::empty()).expect("request");
            let response = app.clone().oneshot(request).await.expect("response");
            assert_eq!(response.status().as_u16(), status, "{uri}");
        }

        let lines = access_lines(&logs);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["method"], "GET");
        assert_eq!(lines[0]["route"], "/items/{id}");
        assert_eq!(lines[0]["status"], 200);
        assert!(lines[0]["latency_ms"].is_number());
        assert_eq!(lines[1]["route"], "unmatched");
        assert_eq!(lines[1]["status"], 404);
        let everything = serde_json::to_string(&lines).expect("json");
        for secret in ["SECRET-ID", "private", "PRIVATE"] {
            assert!(
                !everything.contains(secret),
                "{secret} logged: {everything}"
            );
        }
    }
}
