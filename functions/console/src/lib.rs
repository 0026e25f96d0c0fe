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
//!   tie), else as they are; every form was made by the build (`files`), none at start.
//! - Any other path under `/console/` answers `index.html` (the app routes in the browser),
//!   except under `/console/assets/`, where a missing file is a 404 rather than a page in
//!   place of a script. `/console/` redirects to `/console`.
//! - Only GET and HEAD: any other method is a 405.
//! - The function reads no file, table or secret: the assets are compiled in.

mod files;

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

/// Where the console lives, on the API's own origin.
pub const BASE: &str = "/console";

/// The policy of every console response: the app's own scripts, styles, images and API
/// calls only; no framing, no `<base>`, forms only to itself, and DOM sinks (innerHTML and
/// the like) closed by Trusted Types with no policy allowed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; require-trusted-types-for 'script'; trusted-types 'none'";

/// The embedded files' routes (`/index.html`, `/assets/index-<hash>.js`, ...), relative to
/// [`BASE`].
pub fn asset_routes() -> impl Iterator<Item = &'static str> {
    files::FILES.iter().map(|file| file.route)
}

/// The `(method, path)` routes the function is reached by (template.yaml, the local router).
pub const ROUTES: [(&str, &str); 2] = [("GET", "/console"), ("GET", "/console/{proxy+}")];

/// The function's router. It does no work on the files: the build made every form of them.
pub fn router() -> Router {
    Router::new()
        .route(BASE, get(page))
        .route("/console/", get(to_base))
        .route("/console/{*path}", get(file))
        .fallback(not_found)
        .layer(middleware::from_fn(only_get_and_head))
        .layer(middleware::map_response(security_headers))
}

/// `/console` itself: the app's page.
async fn page(request: Request) -> Response {
    index(&request)
}

fn index(request: &Request) -> Response {
    match files::find(files::INDEX) {
        Some(page) => page.respond(request.headers()),
        None => not_found_now(),
    }
}

/// A built file; under `/assets/` a missing one is a 404 (not a page in place of a
/// script); any other path is the app's page (the app routes in the browser).
async fn file(request: Request) -> Response {
    let route = request.uri().path().trim_start_matches(BASE).to_owned();
    if let Some(found) = files::find(&route) {
        return found.respond(request.headers());
    }
    if route.starts_with("/assets/") {
        return not_found_now();
    }
    index(&request)
}

/// `/console/` (axum's nest does not match it) → `/console`, keeping the query.
async fn to_base(request: Request) -> Response {
    let location = match request.uri().query() {
        Some(query) => format!("{BASE}?{query}"),
        None => BASE.to_owned(),
    };
    match HeaderValue::try_from(location) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, location)]).into_response(),
        Err(_) => not_found_now(),
    }
}

async fn not_found() -> Response {
    not_found_now()
}

fn not_found_now() -> Response {
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
