//! HTTP plumbing shared by the API Lambdas: the one mapping from errors to
//! `application/problem+json`, strict JSON and query extractors, access-token
//! verification, the route table, and the configuration every API function shares.
//! (Cold start itself — environment, AWS clients, logs, the runtime — is `bootstrap`.)

pub mod auth;
pub mod callback_guard;
pub mod catalog;
pub mod config;
pub mod customer;
pub mod extract;
pub mod objects_only;
pub mod pagination;
pub mod payment;
pub mod problem;
pub mod routing;
pub mod verified_tokens;

pub use auth::{Admin, Caller, Claims, Customer, Identity, TokenSigner, TokenVerifier};
pub use callback_guard::{CallbackGuard, Refusal};
pub use config::{ApiConfig, run_api};
pub use extract::{ApiQuery, JsonBody};
pub use pagination::{ListBody, page_request};
pub use problem::ApiError;
pub use routing::{AppState, RouteTable, serve, serve_public, with_fallbacks};
