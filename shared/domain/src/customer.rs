//! Customers: who signs in (one customer per identity-provider subject), their profile,
//! the Kenyan mobile-number rule, and the ports for customers, staff's directory of them
//! (lists, the email lookup, order counts) and pending sign-ins.
//!
//! Invariant: an email is looked up by its [`EmailKey`] (lower-cased), the same form the
//! stored customer is filed under, so the lookup is exact but case-insensitive.

use std::fmt;
use std::future::Future;

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::category::{InvalidName, parse_display_name};
use crate::error::StorageFailure;
use crate::id::{InvalidId, ulid_id};
use crate::page::{Page, PageRequest};
use crate::timestamp::Timestamp;

ulid_id!(
    /// Identifies a customer (the `sub` of our access tokens).
    CustomerId
);

/// Longest customer name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A customer's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CustomerName(String);

impl CustomerName {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        parse_display_name(raw, MAX_NAME_CHARS).map(Self)
    }

    /// The name an identity provider gave, made to fit: control characters dropped,
    /// cut to [`MAX_NAME_CHARS`]; `fallback` when nothing usable is left.
    pub fn from_provider(raw: Option<&str>, fallback: &str) -> Self {
        let cleaned: String = raw
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        Self::parse(&cleaned)
            .or_else(|_| Self::parse(&fallback.chars().take(MAX_NAME_CHARS).collect::<String>()))
            .unwrap_or_else(|_| Self("Customer".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a phone number we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be a Kenyan mobile number, e.g. 0712345678, 712345678, 254712345678 or +254 712 345 678"
)]
pub struct InvalidPhoneNumber;

/// A Kenyan mobile number in E.164 form (`+254` and nine digits starting with 7, 10 or 11).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Normalises the usual ways of writing a Kenyan mobile number to E.164:
    /// `07…`/`01…` (10 digits), `7…`/`1…` (9 digits), `254…` (12 digits) and `+254…`,
    /// with spaces, hyphens, dots or parentheses between the digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let raw = raw.trim();
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(InvalidPhoneNumber),
            }
        }
        let national = match (plus, digits.len()) {
            (true, 12) | (false, 12) => digits.strip_prefix("254"),
            (false, 10) => digits.strip_prefix('0'),
            (false, 9) => Some(digits.as_str()),
            _ => None,
        }
        .ok_or(InvalidPhoneNumber)?;
        let mobile =
            national.starts_with('7') || national.starts_with("10") || national.starts_with("11");
        if national.len() != 9 || !mobile {
            return Err(InvalidPhoneNumber);
        }
        Ok(Self(format!("+254{national}")))
    }

    /// The E.164 form, `+2547XXXXXXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A customer of the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    /// The verified email the identity provider gave at the last sign-in.
    pub email: String,
    pub name: CustomerName,
    /// `None` until the customer sets one; never made up.
    pub phone_number: Option<PhoneNumber>,
    /// Whether the email was in the admin list at the last sign-in.
    pub is_admin: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who just signed in, as the identity provider vouched for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The provider's stable subject identifier (`sub`).
    pub subject: String,
    /// The provider-verified email.
    pub email: String,
    pub name: CustomerName,
    pub is_admin: bool,
}

/// A change to a customer's own profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub name: Option<CustomerName>,
    /// `Some(None)` removes the phone number.
    pub phone_number: Option<Option<PhoneNumber>>,
}

/// Why a customer operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("customer not found")]
    NotFound,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    /// Storage failed, or is unavailable for now (a 503 to retry).
    #[error(transparent)]
    Storage(#[from] StorageFailure),
}

/// What storing a first-time customer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The customer and its identity mapping were written.
    Registered,
    /// Another customer already holds the subject (a concurrent first sign-in won).
    SubjectTaken,
}

impl SignIn {
    /// The customer a first sign-in creates: fresh id, no phone number yet.
    pub fn new_customer(&self, now: Timestamp) -> Customer {
        Customer {
            id: CustomerId::generate(),
            email: self.email.clone(),
            name: self.name.clone(),
            phone_number: None,
            is_admin: self.is_admin,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Storage of customers.
pub trait CustomerStore: Send + Sync {
    /// The customer registered for the identity provider's `subject`, read strongly
    /// consistently.
    fn customer_of_subject(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Option<CustomerId>, CustomerError>> + Send;

    /// Stores `customer` and the mapping of `subject` to it, atomically; neither may exist.
    fn register(
        &self,
        customer: &Customer,
        subject: &str,
    ) -> impl Future<Output = Result<Registration, CustomerError>> + Send;

    /// Brings the provider's view of customer `id` (email, name, admin flag) up to date
    /// ([`CustomerError::NotFound`] if there is no such customer).
    fn refresh(
        &self,
        id: CustomerId,
        sign_in: &SignIn,
    ) -> impl Future<Output = Result<Customer, CustomerError>> + Send;

    /// One customer, if it exists.
    fn customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, CustomerError>> + Send;

    /// Applies a change to a customer's profile.
    fn update_profile(
        &self,
        id: CustomerId,
        change: ProfileChange,
    ) -> impl Future<Output = Result<Customer, CustomerError>> + Send;
}

/// The form an email is looked up in: lower-cased, so a lookup matches the stored email
/// exactly but ignoring case (`Wanjiku@Example.com` is found as `wanjiku@example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailKey(String);

/// Longest email a lookup takes, in characters: the longest address SMTP carries
/// (RFC 5321), so a longer one cannot name a customer.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why a string is not an email to look customers up by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email must be from 1 to {MAX_EMAIL_CHARS} characters")]
pub struct InvalidEmailLookup;

impl EmailKey {
    /// The key of a stored customer's email.
    pub fn of(email: &str) -> Self {
        Self(email.to_lowercase())
    }

    /// The key of an email staff look up: 1 to [`MAX_EMAIL_CHARS`] characters, taken as
    /// given (not trimmed: the match is exact).
    pub fn lookup(raw: &str) -> Result<Self, InvalidEmailLookup> {
        let chars = raw.chars().count();
        if (1..=MAX_EMAIL_CHARS).contains(&chars) {
            Ok(Self::of(raw))
        } else {
            Err(InvalidEmailLookup)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which customers a staff list shows, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerListing {
    /// Every customer.
    All,
    /// The customers whose email is this one (usually one; an address can pass from one
    /// account to another between sign-ins).
    Email(EmailKey),
}

/// A customer as staff see them: the profile and how many orders they have placed (in
/// any status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSummary {
    pub customer: Customer,
    pub order_count: u64,
}

/// Staff's reads of the customers (the customers' own reads are [`CustomerStore`]'s).
pub trait CustomerDirectory: Send + Sync {
    /// One page of `listing`, newest first ([`CustomerError::InvalidCursor`] for a cursor
    /// of another list).
    fn list_customers(
        &self,
        listing: &CustomerListing,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<Customer>, CustomerError>> + Send;

    /// How many orders each of `customers` has placed, in the same order.
    fn order_counts(
        &self,
        customers: &[CustomerId],
    ) -> impl Future<Output = Result<Vec<u64>, CustomerError>> + Send;
}

/// A sign-in that was started (the authorization URL was handed out) and not yet
/// completed: what the callback needs to finish it. Secret: never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The `state` parameter, the item's key.
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_uri: String,
    /// Unix seconds after which the sign-in can no longer be completed.
    pub expires_at: i64,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Storage of pending sign-ins: each is used at most once, and never after it expires.
pub trait SignInStateStore: Send + Sync {
    /// Keeps a pending sign-in until it expires.
    fn save_pending(
        &self,
        pending: PendingSignIn,
    ) -> impl Future<Output = Result<(), CustomerError>> + Send;

    /// Removes and returns the pending sign-in of `state` if it exists and has not
    /// expired at `now` (Unix seconds); atomically, so a replay finds nothing.
    fn take_pending(
        &self,
        state: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PendingSignIn>, CustomerError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kenyan_mobile_numbers_normalise_to_e164() {
        let cases = [
            ("0712345678", "+254712345678"),
            ("712345678", "+254712345678"),
            ("254712345678", "+254712345678"),
            ("+254712345678", "+254712345678"),
            ("+254 712 345 678", "+254712345678"),
            ("0712-345-678", "+254712345678"),
            (" 0712 345678 ", "+254712345678"),
            ("(0712) 345.678", "+254712345678"),
            ("0110123456", "+254110123456"),
            ("0101234567", "+254101234567"),
            ("110123456", "+254110123456"),
            ("254110123456", "+254110123456"),
            ("+254 110 123 456", "+254110123456"),
            ("0799999999", "+254799999999"),
        ];
        for (raw, e164) in cases {
            assert_eq!(
                PhoneNumber::parse(raw).map(|p| p.as_str().to_owned()),
                Ok(e164.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_a_kenyan_mobile_number() {
        let cases = [
            "",
            "+",
            "abc",
            "071234567",     // 9 digits with the trunk 0
            "07123456789",   // 11 digits
            "0812345678",    // not a mobile prefix
            "0201234567",    // Nairobi landline
            "0121234567",    // 012 is not a mobile range
            "+255712345678", // Tanzania
            "+1 415 555 0100",
            "+0712345678", // + needs the country code
            "+712345678",
            "2547123456789", // 13 digits
            "0712 345 67x",
            "0712345678 ext 2",
            "+254+712345678",
            "254 0712345678", // trunk 0 after the country code
        ];
        for raw in cases {
            assert_eq!(PhoneNumber::parse(raw), Err(InvalidPhoneNumber), "{raw:?}");
        }
    }

    #[test]
    fn provider_names_are_made_to_fit() {
        assert_eq!(
            CustomerName::from_provider(Some("  Wanjiku  "), "w@x").as_str(),
            "Wanjiku"
        );
        assert_eq!(
            CustomerName::from_provider(None, "w@example.com").as_str(),
            "w@example.com"
        );
        assert_eq!(
            CustomerName::from_provider(Some("A\u{7}B"), "x").as_str(),
            "AB"
        );
        let long = "n".repeat(500);
        assert_eq!(
            CustomerName::from_provider(Some(&long), "x")
                .as_str()
                .chars()
                .count(),
            MAX_NAME_CHARS
        );
        assert_eq!(
            CustomerName::from_provider(Some(" "), "").as_str(),
            "Customer"
        );
    }

    #[test]
    fn emails_are_looked_up_exactly_but_ignoring_case() {
        let stored = EmailKey::of("Wanjiku.K@Example.COM");
        assert_eq!(stored.as_str(), "wanjiku.k@example.com");
        assert_eq!(
            EmailKey::lookup("WANJIKU.k@example.com"),
            Ok(stored.clone())
        );
        assert_ne!(
            EmailKey::lookup(" wanjiku.k@example.com"),
            Ok(stored.clone())
        );
        assert_ne!(EmailKey::lookup("wanjiku.k@example.co"), Ok(stored));
        assert_eq!(EmailKey::lookup(""), Err(InvalidEmailLookup));
        let longest = format!("{}@x.co", "é".repeat(MAX_EMAIL_CHARS - 5));
        assert!(EmailKey::lookup(&longest).is_ok(), "counted in characters");
        assert_eq!(
            EmailKey::lookup(&format!("a{longest}")),
            Err(InvalidEmailLookup)
        );
    }

    #[test]
    fn pending_sign_ins_keep_their_secrets_out_of_debug_output() {
        let pending = PendingSignIn {
            state: "STATE-SECRET".into(),
            nonce: "NONCE-SECRET".into(),
            pkce_verifier: "VERIFIER-SECRET".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            expires_at: 1,
        };
        let debug = format!("{pending:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
    }
}

/// Properties of phone-number normalisation: every accepted way of writing a Kenyan mobile
/// number gives the one E.164 form, and nothing else is accepted.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::sample::{Index, select};

    use super::*;

    /// The nine national digits of a Kenyan mobile number: `7…`, `10…` or `11…`.
    fn national() -> impl Strategy<Value = String> {
        prop_oneof!["7[0-9]{8}", "1[01][0-9]{7}"]
    }

    /// What people put between the digits: mostly nothing, sometimes a separator or two.
    fn gap() -> impl Strategy<Value = String> {
        prop_oneof![4 => Just(String::new()), 1 => "[ .()-]{1,2}"]
    }

    /// `national` as someone might write it: with the trunk `0`, bare, with the country
    /// code with or without `+`, with separators between the digits and blanks around.
    fn written(national: String) -> impl Strategy<Value = String> {
        let forms = vec![
            format!("0{national}"),
            national.clone(),
            format!("254{national}"),
            format!("+254{national}"),
        ];
        (
            select(forms),
            prop::collection::vec(gap(), 12),
            "[ \t\n]{0,2}",
            "[ \t\n]{0,2}",
        )
            .prop_map(|(form, gaps, before, after)| {
                let mut text = before;
                let mut gaps = gaps.into_iter();
                for (i, c) in form.chars().enumerate() {
                    if i > 0 && c.is_ascii_digit() {
                        text.push_str(&gaps.next().unwrap_or_default());
                    }
                    text.push(c);
                }
                text + &after
            })
    }

    /// The E.164 form the rule says `digits` (after an optional `+`) stands for, derived
    /// from the rule as written rather than from the parser: an optional prefix (`0`, or
    /// `254`, which alone may follow a `+`) and nine national digits of a mobile range.
    fn by_the_rule(plus: bool, digits: &str) -> Option<String> {
        let prefixes: &[&str] = if plus { &["254"] } else { &["", "0", "254"] };
        prefixes.iter().find_map(|prefix| {
            let national = digits.strip_prefix(prefix)?;
            let mobile = ["7", "10", "11"]
                .iter()
                .any(|range| national.starts_with(range));
            (national.len() == 9 && mobile).then(|| format!("+254{national}"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every accepted form of a number normalises to the same E.164 string.
        #[test]
        fn every_written_form_gives_one_e164(
            (national, text) in national().prop_flat_map(|n| (Just(n.clone()), written(n))),
        ) {
            let parsed = PhoneNumber::parse(&text);
            prop_assert_eq!(
                parsed.map(|p| p.as_str().to_owned()),
                Ok(format!("+254{national}")),
                "{:?}", text
            );
        }

        /// Parsing the normalised form gives it back unchanged.
        #[test]
        fn parsing_is_idempotent(text in national().prop_flat_map(written)) {
            let once = PhoneNumber::parse(&text).expect("a mobile number");
            prop_assert_eq!(PhoneNumber::parse(once.as_str()), Ok(once.clone()));
            prop_assert_eq!(once.to_string(), once.as_str());
        }

        /// Digit strings, with or without `+`, are accepted exactly when the rule says so,
        /// and then as the number the rule says.
        #[test]
        fn digit_strings_follow_the_rule(
            plus in any::<bool>(),
            digits in prop_oneof![
                "[0-9]{0,14}",
                "(0|254|2540)?[17][0-9]{8}[0-9]?",
            ],
        ) {
            let text = if plus { format!("+{digits}") } else { digits.clone() };
            prop_assert_eq!(
                PhoneNumber::parse(&text).ok().map(|p| p.as_str().to_owned()),
                by_the_rule(plus, &digits),
                "{:?}", text
            );
        }

        /// A number outside the mobile ranges is refused however it is written.
        #[test]
        fn other_ranges_are_refused(
            text in prop_oneof!["[02-689][0-9]{8}", "1[2-9][0-9]{7}"].prop_flat_map(written),
        ) {
            prop_assert_eq!(PhoneNumber::parse(&text), Err(InvalidPhoneNumber), "{:?}", text);
        }

        /// One character that is not a digit, a separator or a blank spoils any number.
        #[test]
        fn stray_characters_are_refused(
            text in national().prop_flat_map(written),
            stray in any::<char>().prop_filter("allowed in a number", |c| {
                !c.is_ascii_digit() && !c.is_whitespace() && !" -.()+".contains(*c)
            }),
            at in any::<Index>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), stray);
            let spoiled: String = chars.into_iter().collect();
            prop_assert_eq!(PhoneNumber::parse(&spoiled), Err(InvalidPhoneNumber), "{:?}", spoiled);
        }

        /// Any text at all: never a panic, and an accepted number's national digits are
        /// the last nine digits of the text.
        #[test]
        fn arbitrary_text_is_parsed_or_refused_without_panicking(
            text in prop_oneof![any::<String>(), "[0-9 .()+x-]{0,20}"],
        ) {
            if let Ok(number) = PhoneNumber::parse(&text) {
                let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                prop_assert!(digits.ends_with(&number.as_str()[4..]), "{:?}", text);
            }
        }
    }
}
