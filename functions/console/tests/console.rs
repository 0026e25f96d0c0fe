//! The console function driven with real API Gateway v2 events, in process: the security
//! headers on every response, compression by `Accept-Encoding`, ETag revalidation, cache
//! lifetimes, the single-page-app fallback, the `/console/` redirect, what API Gateway gets
//! back (compressed bodies base64-encoded), the size budget of the first screen, and the
//! routes as template.yaml and the local router declare them.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::LazyLock;

use axum::Router;
use testkit::events::{ApiRequest, ApiResponse};

/// One router per test binary: building it compresses every file (as at a cold start).
static ROUTER: LazyLock<Router> = LazyLock::new(console::router);

/// The first screen's JavaScript and CSS, brotli-compressed, may not exceed this.
const FIRST_SCREEN_BUDGET_BYTES: usize = 40 * 1024;

async fn send(request: ApiRequest) -> ApiResponse {
    request.send(&ROUTER).await
}

async fn get(path: &str) -> ApiResponse {
    send(ApiRequest::get(path)).await
}

fn text(response: &ApiResponse) -> String {
    String::from_utf8(response.raw.clone()).expect("UTF-8 body")
}

/// The hashed files index.html loads (`/console/assets/...`).
fn referenced_assets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let end = rest.find('"').expect("closing quote");
            let url = &rest[..end];
            if url.starts_with("/console/assets/") {
                found.push(url.to_owned());
            }
        }
    }
    found
}

async fn index() -> (ApiResponse, Vec<String>) {
    let response = get("/console").await;
    response.expect_status(200);
    let assets = referenced_assets(&text(&response));
    (response, assets)
}

fn header<'a>(response: &'a ApiResponse, name: &str) -> &'a str {
    response
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header; headers: {:?}", response.headers))
}

#[track_caller]
fn assert_security_headers(response: &ApiResponse, what: &str) {
    for (name, expected) in [
        ("content-security-policy", console::CONTENT_SECURITY_POLICY),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        let values: Vec<_> = response.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{what}: exactly one {name}");
        assert_eq!(values[0], expected, "{what}: {name}");
    }
}

#[test]
fn the_policy_is_the_one_the_issue_fixes() {
    assert_eq!(
        console::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
         require-trusted-types-for 'script'; trusted-types 'none'"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (_, assets) = index().await;
    let js = assets
        .iter()
        .find(|a| a.ends_with(".js"))
        .expect("index.html loads a script");
    let etag = header(&get(js).await, "etag").to_owned();
    let cases = [
        ("the app", ApiRequest::get("/console")),
        ("index.html", ApiRequest::get("/console/index.html")),
        (
            "a screen",
            ApiRequest::get("/console/orders/01JDA0R5E2M8QK4T6V9XZB3C1N"),
        ),
        ("a script", ApiRequest::get(js)),
        (
            "a script, brotli",
            ApiRequest::get(js).header("accept-encoding", "br"),
        ),
        ("a 304", ApiRequest::get(js).header("if-none-match", &etag)),
        ("the redirect", ApiRequest::get("/console/")),
        (
            "a missing asset",
            ApiRequest::get("/console/assets/missing.js"),
        ),
        ("another method", ApiRequest::post("/console")),
        ("outside /console", ApiRequest::get("/elsewhere")),
    ];
    for (what, request) in cases {
        let response = send(request).await;
        assert_security_headers(&response, what);
    }
}

#[tokio::test]
async fn index_html_is_revalidated_and_hashed_assets_are_kept_a_year() {
    let (page, assets) = index().await;
    assert_eq!(header(&page, "content-type"), "text/html");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "index.html loads the app's script and stylesheet: {assets:?}"
    );
    for asset in &assets {
        let response = get(asset).await;
        response.expect_status(200);
        assert_eq!(
            header(&response, "cache-control"),
            "max-age=31536000, immutable",
            "{asset}"
        );
        let expected = if asset.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert_eq!(header(&response, "content-type"), expected, "{asset}");
    }
    // Every embedded file other than index.html has a content hash in its name.
    for route in console::asset_routes().filter(|r| *r != "/index.html") {
        assert!(route.starts_with("/assets/"), "{route}");
        let stem = route.rsplit('/').next().and_then(|f| f.split('.').next());
        assert!(
            stem.is_some_and(|s| s.contains('-')),
            "{route} has no content hash"
        );
    }
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("a brotli body");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

#[tokio::test]
async fn compression_follows_accept_encoding() {
    let (_, assets) = index().await;
    let mut paths = vec!["/console".to_owned()];
    paths.extend(assets);
    for path in paths {
        let plain = get(&path).await;
        assert_eq!(
            plain.header("content-encoding"),
            None,
            "{path}: no Accept-Encoding"
        );
        for (accept, encoding) in [
            ("br", Some("br")),
            ("gzip", Some("gzip")),
            ("gzip, deflate, br, zstd", Some("br")),
            ("br;q=0.5, gzip", Some("gzip")),
            ("br;q=0, gzip;q=0", None),
            ("identity", None),
        ] {
            let response = send(ApiRequest::get(&path).header("accept-encoding", accept)).await;
            response.expect_status(200);
            assert_eq!(
                response.header("content-encoding"),
                encoding,
                "{path} with Accept-Encoding: {accept}"
            );
            assert_eq!(header(&response, "vary"), "accept-encoding", "{path}");
            let body = match encoding {
                Some("br") => unbrotli(&response.raw),
                Some("gzip") => gunzip(&response.raw),
                _ => response.raw.clone(),
            };
            assert_eq!(body, plain.raw, "{path} with {accept}: the same file");
            assert_eq!(
                header(&response, "content-length"),
                response.raw.len().to_string(),
                "{path} with {accept}"
            );
        }
    }
}

#[tokio::test]
async fn a_matching_etag_gets_a_304_without_a_body() {
    let (page, assets) = index().await;
    let mut paths = vec![("/console".to_owned(), header(&page, "etag").to_owned())];
    for asset in assets {
        let etag = header(&get(&asset).await, "etag").to_owned();
        paths.push((asset, etag));
    }
    for (path, etag) in paths {
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "a strong ETag: {etag}"
        );
        let response = send(
            ApiRequest::get(&path)
                .header("if-none-match", &etag)
                .header("accept-encoding", "br"),
        )
        .await;
        response.expect_status(304);
        assert!(response.raw.is_empty(), "{path}: no body");
        assert_eq!(header(&response, "etag"), etag);
        let stale = send(ApiRequest::get(&path).header("if-none-match", "\"stale\"")).await;
        stale.expect_status(200);
    }
}

#[tokio::test]
async fn unknown_paths_under_console_answer_the_app() {
    let (page, _) = index().await;
    for path in [
        "/console/orders",
        "/console/orders/01JDA0R5E2M8QK4T6V9XZB3C1N",
        "/console/callback",
        "/console/products/new",
        "/console/a/b/c",
    ] {
        let response = get(&format!("{path}?code=x&state=y")).await;
        response.expect_status(200);
        assert_eq!(response.raw, page.raw, "{path}: index.html");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&response, "content-type"), "text/html", "{path}");
    }
    for path in ["/console/assets/missing.js", "/console/assets/a/b.css"] {
        let response = get(path).await;
        response.expect_status(404);
        assert_eq!(
            header(&response, "content-type"),
            "text/plain; charset=utf-8",
            "{path}: a missing script is not a page"
        );
    }
}

#[tokio::test]
async fn console_slash_redirects_to_console() {
    let response = get("/console/").await;
    response.expect_status(308);
    assert_eq!(header(&response, "location"), "/console");
    let with_query = get("/console/?x=1").await;
    with_query.expect_status(308);
    assert_eq!(header(&with_query, "location"), "/console?x=1");
}

#[tokio::test]
async fn only_get_and_head_are_served() {
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in ["/console", "/console/orders"] {
            let response = send(ApiRequest::new(method, path)).await;
            response.expect_status(405);
            assert_eq!(header(&response, "allow"), "GET, HEAD", "{method} {path}");
        }
    }
    let head = send(ApiRequest::new("HEAD", "/console")).await;
    head.expect_status(200);
    assert!(head.raw.is_empty(), "HEAD has no body");
}

#[tokio::test]
async fn api_gateway_gets_compressed_bodies_base64_encoded() {
    use lambda_http::IntoResponse as _;
    let request = ApiRequest::get("/console").header("accept-encoding", "br");
    let event = lambda_http::request::from_str(&request.event()).expect("an API Gateway v2 event");
    let response = tower_oneshot(event).await;
    let converted = response.into_response().await;
    assert!(
        matches!(converted.body(), lambda_http::Body::Binary(_)),
        "a br body goes to API Gateway as binary (isBase64Encoded)"
    );
    let plain = lambda_http::request::from_str(&ApiRequest::get("/console").event())
        .expect("an API Gateway v2 event");
    let converted = tower_oneshot(plain).await.into_response().await;
    assert!(
        matches!(converted.body(), lambda_http::Body::Text(t) if t.contains("<div id=\"app\">")),
        "uncompressed HTML goes as text"
    );
}

async fn tower_oneshot(request: lambda_http::Request) -> axum::response::Response {
    use tower::ServiceExt as _;
    ROUTER
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {})
}

#[tokio::test]
async fn the_first_screen_fits_the_budget() {
    let (page, assets) = index().await;
    let mut total = 0;
    let mut sizes = Vec::new();
    for asset in assets
        .iter()
        .filter(|a| a.ends_with(".js") || a.ends_with(".css"))
    {
        let response = send(ApiRequest::get(asset).header("accept-encoding", "br")).await;
        response.expect_status(200);
        assert_eq!(response.header("content-encoding"), Some("br"), "{asset}");
        total += response.raw.len();
        sizes.push(format!("{asset} {} B", response.raw.len()));
    }
    let html = send(ApiRequest::get("/console").header("accept-encoding", "br")).await;
    println!(
        "first screen: JS + CSS {total} B brotli ({}); index.html {} B brotli, {} B plain",
        sizes.join(", "),
        html.raw.len(),
        page.raw.len()
    );
    assert!(
        total <= FIRST_SCREEN_BUDGET_BYTES,
        "the first screen's JS + CSS is {total} B brotli, over the {FIRST_SCREEN_BUDGET_BYTES} B budget"
    );
}

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    // The console is HTML outside /api/v1, so openapi.yaml (the JSON API's contract, and
    // the fuzzer's input) does not document it; API Gateway reaches it by GET only (any
    // other method is API Gateway's 404 there, the function's 405 locally).
    let ours: testkit::routes::RouteSet = console::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let (template, any) =
        testkit::routes::template_routes("ConsoleFunction").expect("template.yaml");
    assert_eq!(template, ours, "HttpApi events of ConsoleFunction");
    assert!(any.is_empty(), "no ANY routes: {any:?}");
    // The local router writes API Gateway's greedy `{proxy+}` as its catch-all `{*proxy}`,
    // which matches one character or more, and so also lists the bare `/console/`.
    let watched = testkit::routes::watch_paths("console").expect("Cargo.toml");
    let mut local: BTreeSet<String> = ours
        .iter()
        .map(|(_, p)| p.replace("{proxy+}", "{*proxy}"))
        .collect();
    local.insert(format!("{}/", console::BASE));
    assert_eq!(watched, local, "[workspace.metadata.lambda.watch.router]");
    let documented: Vec<_> = testkit::routes::openapi_routes()
        .expect("openapi.yaml")
        .into_iter()
        .filter(|(_, p)| p.starts_with(console::BASE))
        .collect();
    assert!(
        documented.is_empty(),
        "openapi.yaml documents the JSON API only"
    );
}
