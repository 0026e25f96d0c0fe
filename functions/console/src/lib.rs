//! The back-office console: a single-page app (web/, built by build.rs) served from memory
//! at `/console`.
//!
//! Invariants:
//! - Every response — pages, assets, 304s, redirects, 404s, 405s — carries exactly
//!   [`CONTENT_SECURITY_POLICY`], `Referrer-Policy: no-referrer` and
//!   `X-Content-Type-Options: nosniff`.
//! - `index.html` is revalidated on every load (`no-cache`); the files under
//!   `/console/assets/` have content hashes in their names (Vite) and are cached for a year
//!   (`immutable`). Every file has a strong ETag; `If-None-Match` gets a 304.
//! - Text files are sent brotli- or gzip-compressed as `Accept-Encoding` prefers (brotli on a
//!   tie), else as they are.
//! - Any other path under `/console/` answers `index.html` (the app routes in the browser),
//!   except under `/console/assets/`, where a missing file is a 404 rather than a page in
//!   place of a script. `/console/` redirects to `/console`.
//! - Only GET and HEAD: any other method is a 405.
//! - The function reads no file, table or secret: the assets are compiled in.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    ALLOW, CONTENT_SECURITY_POLICY as CSP, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use memory_serve::{Asset, CacheControl, MemoryServe};

/// Where the console lives, on the API's own origin.
pub const BASE: &str = "/console";

/// The policy of every console response: the app's own scripts, styles, images and API
/// calls only; no framing, no `<base>`, forms only to itself, and DOM sinks (innerHTML and
/// the like) closed by Trusted Types with no policy allowed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; require-trusted-types-for 'script'; trusted-types 'none'";

/// The built front end (build.rs): index.html and the hashed files under /assets/.
static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The embedded files' routes (`/index.html`, `/assets/index-<hash>.js`, ...), relative to
/// [`BASE`].
pub fn asset_routes() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|asset| asset.route)
}

/// The `(method, path)` routes the function is reached by (template.yaml, the local router).
pub const ROUTES: [(&str, &str); 2] = [("GET", "/console"), ("GET", "/console/{proxy+}")];

/// The function's router. Builds the compressed copies of every file, so call it once per
/// process (at cold start); it leaks them for the life of the process.
pub fn router() -> Router {
    let app = MemoryServe::new(ASSETS)
        .index_file(Some("/index.html"))
        .fallback(Some("/index.html"))
        .fallback_status(StatusCode::OK)
        .html_cache_control(CacheControl::NoCache)
        .cache_control(CacheControl::Long)
        .enable_brotli(true)
        .enable_gzip(true)
        .into_router();
    Router::new()
        .route("/console/", get(to_base))
        .route("/console/assets/{*missing}", get(not_found))
        .nest(BASE, app)
        .fallback(not_found)
        .layer(middleware::from_fn(only_get_and_head))
        .layer(middleware::map_response(security_headers))
}

/// `/console/` (axum's nest does not match it) → `/console`, keeping the query.
async fn to_base(request: Request) -> Response {
    let location = match request.uri().query() {
        Some(query) => format!("{BASE}?{query}"),
        None => BASE.to_owned(),
    };
    match HeaderValue::try_from(location) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, location)]).into_response(),
        Err(_) => not_found().await,
    }
}

async fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "Not Found")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from(text),
    )
        .into_response()
}

async fn only_get_and_head(request: Request, next: Next) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return next.run(request).await;
    }
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
