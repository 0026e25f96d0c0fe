//! The free-text fields of requests (`AccountReference`, `TransactionDesc`, `Remarks`…).
//!
//! Invariant: a field is sent only when it is printable ASCII (space to `~`) and its
//! length is within Daraja's bounds; M-Pesa shows some of them on the customer's phone,
//! where other characters are not promised to survive.

use std::ops::RangeInclusive;

/// Whether `text` is printable ASCII with a length in `lengths`.
pub(crate) fn fits(text: &str, lengths: RangeInclusive<usize>) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_within_bounds() {
        assert!(fits("ORD7K2M9QX4P", 1..=12));
        assert!(fits("Order 1234 ok", 1..=13));
        assert!(!fits("ORD7K2M9QX4PZ", 1..=12));
        assert!(!fits("", 1..=12));
        assert!(fits("", 0..=100));
        assert!(!fits("Oda ya Wanjikũ", 1..=100));
        assert!(!fits("tab\there", 1..=100));
    }
}
