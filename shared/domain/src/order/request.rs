//! What a customer asks for when placing an order, parsed and bounded, and the key that
//! makes a retried request safe.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::error::ValidationErrors;
use crate::id::ProductId;
use crate::order::pricing::Quantity;

/// Most distinct products in one order.
pub const MAX_LINES: usize = 50;

/// Longest delivery address, in characters.
pub const MAX_ADDRESS_LEN: usize = 500;

/// Longest order note, in characters.
pub const MAX_NOTES_LEN: usize = 1000;

fn bounded_text(s: &str, max: usize) -> Result<String, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

/// Where the order is delivered: free text, 1–500 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryAddress(String);

impl DeliveryAddress {
    pub fn parse(s: &str) -> Result<Self, String> {
        bounded_text(s, MAX_ADDRESS_LEN).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The customer's note on an order: 1–1000 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notes(String);

impl Notes {
    pub fn parse(s: &str) -> Result<Self, String> {
        bounded_text(s, MAX_NOTES_LEN).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One requested line: a product and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestedLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// The lines of an order: 1–50 lines of distinct products (checked once, here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLines(Vec<RequestedLine>);

impl RequestedLines {
    /// Checks the line rules (1–50 lines, distinct products), reporting every problem under
    /// `items` / `items[i].product_id`.
    pub fn new(lines: Vec<RequestedLine>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if lines.is_empty() || lines.len() > MAX_LINES {
            errors.push(
                "items",
                format!("must list from 1 to {MAX_LINES} distinct products"),
            );
        }
        let mut seen = HashSet::new();
        for (i, line) in lines.iter().enumerate() {
            if !seen.insert(line.product_id) {
                errors.push(
                    format!("items[{i}].product_id"),
                    "is listed more than once; give each product once with its total quantity",
                );
            }
        }
        errors.into_result(|| Self(lines))
    }
}

/// A valid request to place an order: 1–50 lines of distinct products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    lines: RequestedLines,
    pub delivery_address: DeliveryAddress,
    pub notes: Option<Notes>,
    /// `false` leaves the order `PENDING` until it is confirmed.
    pub confirm: bool,
}

impl OrderRequest {
    /// Checks the line rules ([`RequestedLines::new`]) and makes the request.
    pub fn new(
        lines: Vec<RequestedLine>,
        delivery_address: DeliveryAddress,
        notes: Option<Notes>,
        confirm: bool,
    ) -> Result<Self, ValidationErrors> {
        let lines = RequestedLines::new(lines)?;
        Ok(Self::of(lines, delivery_address, notes, confirm))
    }

    /// The request of lines already checked (a parser that collects every field error
    /// checks them with the other fields).
    pub fn of(
        lines: RequestedLines,
        delivery_address: DeliveryAddress,
        notes: Option<Notes>,
        confirm: bool,
    ) -> Self {
        Self {
            lines,
            delivery_address,
            notes,
            confirm,
        }
    }

    pub fn lines(&self) -> &[RequestedLine] {
        &self.lines.0
    }

    /// The product ids, in request order.
    pub fn product_ids(&self) -> Vec<ProductId> {
        self.lines().iter().map(|l| l.product_id).collect()
    }

    /// A digest of everything the request asks for: two requests with the same
    /// fingerprint place the same order.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut hash = Sha256::new();
        // Length-prefixed fields, so no two different requests share an encoding.
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        for line in self.lines() {
            field(line.product_id.to_string().as_bytes());
            field(&line.quantity.get().to_be_bytes());
        }
        field(b"|");
        field(self.delivery_address.as_str().as_bytes());
        field(self.notes.as_ref().map_or("", Notes::as_str).as_bytes());
        field(&[u8::from(self.notes.is_some()), u8::from(self.confirm)]);
        Fingerprint(hex(&hash.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a request's content, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub String);

/// The client's `Idempotency-Key`: 1–64 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;

/// Why a header value is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 64 visible ASCII characters")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, InvalidIdempotencyKey> {
        let ok = !s.is_empty()
            && s.len() <= MAX_IDEMPOTENCY_KEY_LEN
            && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(s.to_owned())).ok_or(InvalidIdempotencyKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: ProductId, quantity: i64) -> RequestedLine {
        RequestedLine {
            product_id: id,
            quantity: Quantity::new(quantity).expect("quantity"),
        }
    }

    fn request(lines: Vec<RequestedLine>, notes: Option<&str>) -> OrderRequest {
        OrderRequest::new(
            lines,
            DeliveryAddress::parse("Moi Avenue 1, Nairobi").expect("address"),
            notes.map(|n| Notes::parse(n).expect("notes")),
            true,
        )
        .expect("valid")
    }

    #[test]
    fn lines_are_one_to_fifty_distinct_products() {
        let a = ProductId::generate();
        let address = DeliveryAddress::parse("x").expect("address");
        let refused = |lines: Vec<RequestedLine>| {
            OrderRequest::new(lines, address.clone(), None, true)
                .expect_err("refused")
                .0
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(refused(vec![]), ["items"]);
        assert_eq!(
            refused(vec![line(a, 1), line(ProductId::generate(), 1), line(a, 2)]),
            ["items[2].product_id"]
        );
        let many = (0..51).map(|_| line(ProductId::generate(), 1)).collect();
        assert_eq!(refused(many), ["items"]);
        let fifty = (0..50).map(|_| line(ProductId::generate(), 1)).collect();
        assert!(OrderRequest::new(fifty, address, None, true).is_ok());
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            DeliveryAddress::parse("  Kimathi St  ").map(|a| a.as_str().to_owned()),
            Ok("Kimathi St".to_owned())
        );
        assert!(DeliveryAddress::parse("   ").is_err());
        assert!(DeliveryAddress::parse(&"a".repeat(501)).is_err());
        assert!(DeliveryAddress::parse("line 1\nline 2").is_ok());
        assert!(Notes::parse("bell\u{7}").is_err());
        assert!(Notes::parse(&"n".repeat(1000)).is_ok());
    }

    #[test]
    fn fingerprints_differ_exactly_when_the_request_does() {
        let (a, b) = (ProductId::generate(), ProductId::generate());
        let base = request(vec![line(a, 1), line(b, 2)], None);
        assert_eq!(
            base.fingerprint(),
            request(vec![line(a, 1), line(b, 2)], None).fingerprint()
        );
        for other in [
            request(vec![line(a, 1), line(b, 3)], None),
            request(vec![line(a, 1)], None),
            request(vec![line(a, 1), line(b, 2)], Some("ring twice")),
            OrderRequest {
                confirm: false,
                ..base.clone()
            },
        ] {
            assert_ne!(base.fingerprint(), other.fingerprint(), "{other:?}");
        }
        assert_eq!(base.fingerprint().0.len(), 64);
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(IdempotencyKey::parse("order-2026-11-25-0001").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(64)).is_ok());
        for bad in ["", " key", "käy", "a b", &"k".repeat(65)] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey),
                "{bad:?}"
            );
        }
    }
}
