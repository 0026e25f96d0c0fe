//! The built front end's files, served from memory as the build left them: each file as
//! it is and, for text, its brotli and gzip forms, all made by build.rs. Nothing is
//! compressed, decompressed, hashed or copied at start or per request.
//!
//! Invariants:
//! - `index.html` is revalidated on every load (`no-cache`); the other files have content
//!   hashes in their names (Vite) and are kept a year (`immutable`).
//! - Every file has a strong ETag (its SHA-256); an `If-None-Match` naming it, or `*`, gets a
//!   304 with no body.
//! - A file with compressed forms is sent in the form `Accept-Encoding` prefers (brotli on a
//!   tie, `q=0` refuses one), else as it is, always with `Vary: Accept-Encoding`.

use axum::body::Body;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One built file.
#[derive(Debug)]
pub struct File {
    /// Its path under the console (`/index.html`, `/assets/index-<hash>.js`).
    pub route: &'static str,
    pub content_type: &'static str,
    /// Quoted, as sent.
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub brotli: Option<&'static [u8]>,
    pub gzip: Option<&'static [u8]>,
}

/// Every built file (build.rs).
pub static FILES: &[File] = include!(concat!(env!("OUT_DIR"), "/console_files.rs"));

/// The page every app route answers with.
pub const INDEX: &str = "/index.html";

/// The file at `route`, if the build made one.
pub fn find(route: &str) -> Option<&'static File> {
    FILES.iter().find(|file| file.route == route)
}

/// The forms a client accepts, from its `Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Accepted {
    brotli: f32,
    gzip: f32,
}

impl Accepted {
    fn of(headers: &HeaderMap) -> Self {
        let (mut brotli, mut gzip, mut any) = (None, None, None);
        let values = headers.get_all(ACCEPT_ENCODING).iter();
        for item in values
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
        {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "br" => brotli = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                // Every coding not named.
                "*" => any = Some(q),
                _ => {}
            }
        }
        let unnamed = any.unwrap_or(0.0);
        Self {
            brotli: brotli.unwrap_or(unnamed),
            gzip: gzip.unwrap_or(unnamed),
        }
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == etag || tag.strip_prefix("W/") == Some(etag))
}

impl File {
    fn is_html(&self) -> bool {
        self.content_type == "text/html"
    }

    fn cache_control(&self) -> &'static str {
        if self.is_html() {
            "no-cache"
        } else {
            "max-age=31536000, immutable"
        }
    }

    /// This file as the answer to a request with `headers`: 200 in the form it prefers,
    /// or 304 when it holds this version.
    pub fn respond(&'static self, headers: &HeaderMap) -> Response {
        let compressible = self.brotli.is_some() || self.gzip.is_some();
        let mut response = if not_modified(headers, self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let accepted = Accepted::of(headers);
            let brotli = self.brotli.filter(|_| accepted.brotli > 0.0);
            let gzip = self.gzip.filter(|_| accepted.gzip > 0.0);
            let (bytes, encoding) = match (brotli, gzip) {
                (Some(b), Some(_)) if accepted.brotli >= accepted.gzip => (b, Some("br")),
                (_, Some(g)) => (g, Some("gzip")),
                (Some(b), None) => (b, Some("br")),
                (None, None) => (self.identity, None),
            };
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            if let Some(encoding) = encoding {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(ETAG, HeaderValue::from_static(self.etag));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control()),
        );
        if compressible {
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Accepted {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("header"),
        );
        Accepted::of(&headers)
    }

    #[test]
    fn accept_encoding_reads_codings_and_their_weights() {
        assert_eq!(
            accept("gzip, deflate, br, zstd"),
            Accepted {
                brotli: 1.0,
                gzip: 1.0
            }
        );
        assert_eq!(
            accept("br;q=0.5, gzip"),
            Accepted {
                brotli: 0.5,
                gzip: 1.0
            }
        );
        assert_eq!(
            accept("br;q=0, gzip;q=0"),
            Accepted {
                brotli: 0.0,
                gzip: 0.0
            }
        );
        assert_eq!(
            accept("*;q=0.3, gzip"),
            Accepted {
                brotli: 0.3,
                gzip: 1.0
            }
        );
        assert_eq!(
            Accepted::of(&HeaderMap::new()),
            Accepted {
                brotli: 0.0,
                gzip: 0.0
            }
        );
    }

    #[test]
    fn every_file_was_hashed_and_text_compressed_by_the_build() {
        let index = find(INDEX).expect("index.html");
        assert!(index.brotli.is_some() && index.gzip.is_some());
        for file in FILES {
            assert!(
                file.etag.starts_with('"') && file.etag.len() == 66,
                "{}",
                file.route
            );
            if let Some(brotli) = file.brotli {
                assert!(brotli.len() < file.identity.len(), "{}", file.route);
            }
        }
    }
}
