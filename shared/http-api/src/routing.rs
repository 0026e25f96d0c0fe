//! Router state and the fallbacks that keep unknown routes and wrong methods inside the
//! problem+json contract.

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;

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
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed)
}
