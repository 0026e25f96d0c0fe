//! `?limit=` / `?cursor=` parsing and the `{"items", "next_cursor"}` list body.

use domain::{Cursor, Page, PageLimit, PageRequest};
use serde::Serialize;

use crate::problem::ApiError;

/// Builds a page request from the raw query parameters (400 when malformed).
pub fn page_request(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let bad_limit = || ApiError::BadRequest("limit must be a whole number from 1 to 100".into());
    let limit = match limit {
        None => PageLimit::default(),
        Some(raw) => {
            PageLimit::new(raw.parse().map_err(|_| bad_limit())?).map_err(|_| bad_limit())?
        }
    };
    let cursor = match cursor {
        None => None,
        Some(raw) if raw.is_empty() || raw.len() > 4096 => {
            return Err(ApiError::BadRequest(
                "the cursor is not valid for this list".into(),
            ));
        }
        Some(raw) => Some(Cursor(raw.to_owned())),
    };
    Ok(PageRequest { limit, cursor })
}

/// A page of a list as the API writes it.
#[derive(Debug, Serialize)]
pub struct ListBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> ListBody<T> {
    /// The body of `page`, each item shown with `f`.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self {
            items: page.items,
            next_cursor: page.next_cursor.map(|c| c.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_twenty_and_refuse_out_of_range() {
        assert_eq!(page_request(None, None).expect("default").limit.get(), 20);
        assert_eq!(
            page_request(Some("100"), None).expect("max").limit.get(),
            100
        );
        for bad in ["0", "101", "-1", "ten", ""] {
            assert!(page_request(Some(bad), None).is_err(), "{bad:?}");
        }
        assert!(page_request(None, Some("")).is_err());
    }
}
