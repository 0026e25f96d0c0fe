//! Cursor pagination shared by every list.

/// Default number of items on a page.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// A page size from 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

/// Why a number is not a page size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
pub struct InvalidLimit;

impl PageLimit {
    pub fn new(limit: u32) -> Result<Self, InvalidLimit> {
        (1..=MAX_LIMIT)
            .contains(&limit)
            .then_some(Self(limit))
            .ok_or(InvalidLimit)
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// An opaque position in a list, handed out as `next_cursor` and given back as `?cursor=`.
/// Only the storage adapter that made it can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// Which page of a list to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: PageLimit,
    pub cursor: Option<Cursor>,
}

/// One page of a list and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_one_to_one_hundred() {
        assert_eq!(PageLimit::default().get(), 20);
        assert_eq!(PageLimit::new(1).map(|l| l.get()), Ok(1));
        assert_eq!(PageLimit::new(100).map(|l| l.get()), Ok(100));
        assert_eq!(PageLimit::new(0), Err(InvalidLimit));
        assert_eq!(PageLimit::new(101), Err(InvalidLimit));
    }
}
