//! The `/api/v1/auth` route area: sign-in with Google (or any OpenID Connect provider
//! configured by its issuer URL) and our own access tokens.
//!
//! - `GET /auth/google/login`: an authorization URL (code flow, PKCE S256, `state`,
//!   `nonce`); state, verifier and nonce are kept in a single-use DynamoDB item that
//!   expires after ten minutes.
//! - `GET /auth/google/callback`: takes the state (unknown, expired or reused → 400),
//!   exchanges the code, verifies the ID token, creates or updates the customer and
//!   answers our access token.
//! - `POST /auth/google/id-token`: the same for an ID token a Google Sign-In client holds.
//! - `GET /auth/jwks.json`: the public keys of our access tokens.

pub mod config;
pub mod signing_key;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::customer::{CustomerName, PendingSignIn, SignIn};
use domain::customer_use_cases::Accounts;
use domain::{CustomerStore, SignInStateStore};
use http_api::auth::{ACCESS_TOKEN_TTL_SECONDS, Identity};
use http_api::customer::CustomerView;
use http_api::{ApiError, ApiQuery, AppState, JsonBody, RouteTable, TokenSigner};
use oidc::{OidcClient, OidcError, VerifiedIdentity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a started sign-in can be completed: ten minutes.
pub const SIGN_IN_TTL_SECONDS: i64 = 10 * 60;

/// What the handlers need from storage.
pub trait Store: CustomerStore + SignInStateStore + Clone + 'static {}
impl<T: CustomerStore + SignInStateStore + Clone + 'static> Store for T {}

/// The function's services, shared by every request of a warm Lambda.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    pub store: S,
    /// The identity provider (discovery and keys cached across invocations).
    pub oidc: Arc<OidcClient>,
    pub signer: Arc<TokenSigner>,
    /// The JWK Set of our public keys.
    pub jwks: Arc<Value>,
    /// Redirect URIs a sign-in may use; the first is the default.
    pub redirect_uris: Arc<[String]>,
    /// Admin emails, lower-cased.
    pub admin_emails: Arc<[String]>,
}

impl<S> Auth<S> {
    fn is_admin(&self, verified_email: &str) -> bool {
        let email = verified_email.trim().to_lowercase();
        self.admin_emails.contains(&email)
    }
}

/// Lower-cases an admin list for [`Auth::admin_emails`].
pub fn admin_list(emails: &[String]) -> Arc<[String]> {
    emails.iter().map(|e| e.trim().to_lowercase()).collect()
}

type AuthState<S> = AppState<Auth<S>>;

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AuthState<S>> {
    RouteTable::new()
        .route(Method::GET, "/api/v1/auth/google/login", login::<S>)
        .route(Method::GET, "/api/v1/auth/google/callback", callback::<S>)
        .route(Method::POST, "/api/v1/auth/google/id-token", id_token::<S>)
        .route(Method::GET, "/api/v1/auth/jwks.json", jwks::<S>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: Store>(state: AuthState<S>) -> Router {
    http_api::serve(routes::<S>(), state)
}

/// The one mapping of sign-in failures to the API's errors.
fn sign_in_error(err: OidcError) -> ApiError {
    match err {
        OidcError::Provider(reason) => {
            tracing::warn!(%reason, "identity provider failed");
            ApiError::BadGateway("the identity provider failed; try again later".into())
        }
        OidcError::CodeRejected(reason) => {
            tracing::info!(%reason, "authorization code refused by the provider");
            ApiError::BadRequest(
                "the identity provider refused the authorization code; start the sign-in again"
                    .into(),
            )
        }
        OidcError::InvalidIdToken(reason) => {
            tracing::info!(%reason, "ID token refused");
            ApiError::Unauthorized(reason.to_string())
        }
        OidcError::Config(reason) => ApiError::Internal(reason.into()),
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginQuery {
    redirect_uri: Option<String>,
}

#[derive(Debug, Serialize)]
struct LoginBody {
    authorization_url: String,
    state: String,
}

async fn login<S: Store>(
    State(state): State<AuthState<S>>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Result<Response, ApiError> {
    let auth = &state.services;
    let redirect_uri = match query.redirect_uri {
        None => auth
            .redirect_uris
            .first()
            .cloned()
            .ok_or_else(|| ApiError::Internal("no redirect URI configured".into()))?,
        Some(uri) if auth.redirect_uris.contains(&uri) => uri,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "redirect_uri is not one of the allowed redirect URIs".into(),
            ));
        }
    };
    let request = auth
        .oidc
        .authorization_request(&redirect_uri)
        .await
        .map_err(sign_in_error)?;
    auth.store
        .save_pending(PendingSignIn {
            state: request.state.clone(),
            nonce: request.nonce,
            pkce_verifier: request.pkce_verifier,
            redirect_uri,
            expires_at: now() + SIGN_IN_TTL_SECONDS,
        })
        .await?;
    Ok(no_store(
        Json(LoginBody {
            authorization_url: request.url,
            state: request.state,
        })
        .into_response(),
    ))
}

/// The provider's redirect. Providers add parameters of their own (Google: `scope`,
/// `authuser`, `prompt`, …), so unknown ones are ignored.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenBody {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    customer: CustomerView,
}

async fn callback<S: Store>(
    State(state): State<AuthState<S>>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let auth = &state.services;
    let bad_state = || ApiError::BadRequest("unknown, expired or already used state".into());
    let raw_state = query
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(bad_state)?;
    // Consumed first, whatever follows: a state is good for one attempt only.
    let pending = auth
        .store
        .take_pending(&raw_state, now())
        .await?
        .ok_or_else(bad_state)?;
    if let Some(error) = query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(ApiError::BadRequest(format!(
            "the identity provider did not authorize the sign-in ({error})"
        )));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("code is required".into()))?;
    let id_token = auth
        .oidc
        .exchange_code(&code, &pending.pkce_verifier, &pending.redirect_uri)
        .await
        .map_err(sign_in_error)?;
    let identity = auth
        .oidc
        .verify_id_token(&id_token, Some(&pending.nonce))
        .await
        .map_err(sign_in_error)?;
    finish_sign_in(auth, identity).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdTokenRequest {
    id_token: String,
}

async fn id_token<S: Store>(
    State(state): State<AuthState<S>>,
    JsonBody(body): JsonBody<IdTokenRequest>,
) -> Result<Response, ApiError> {
    let auth = &state.services;
    let identity = auth
        .oidc
        .verify_id_token(&body.id_token, None)
        .await
        .map_err(sign_in_error)?;
    finish_sign_in(auth, identity).await
}

/// Creates or updates the customer of a verified identity and issues our token.
async fn finish_sign_in<S: Store>(
    auth: &Auth<S>,
    identity: VerifiedIdentity,
) -> Result<Response, ApiError> {
    let sign_in = SignIn {
        name: CustomerName::from_provider(identity.name.as_deref(), &identity.email),
        is_admin: auth.is_admin(&identity.email),
        subject: identity.subject,
        email: identity.email,
    };
    let customer = Accounts::new(&auth.store).sign_in(sign_in).await?;
    let access_token = auth
        .signer
        .sign(
            &Identity {
                customer_id: customer.id.to_string(),
                email: customer.email.clone(),
                name: customer.name.as_str().to_owned(),
                admin: customer.is_admin,
            },
            now(),
        )
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    tracing::info!(customer_id = %customer.id, admin = customer.is_admin, "signed in");
    Ok(no_store(
        Json(TokenBody {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECONDS,
            customer: customer.into(),
        })
        .into_response(),
    ))
}

async fn jwks<S: Store>(State(state): State<AuthState<S>>) -> Response {
    let mut response = Json(state.services.jwks.as_ref().clone()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
