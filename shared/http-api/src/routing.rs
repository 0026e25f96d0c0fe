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
    pub store: S,
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
