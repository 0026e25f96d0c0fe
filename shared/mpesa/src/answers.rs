//! Reading Daraja's answers to our calls, shared by every operation: the acceptance
//! envelope (`ResponseCode`, `ResponseDescription`) and the error body
//! (`{"requestId","errorCode","errorMessage"}`).
//!
//! Invariants:
//! - A 2xx answer is an acceptance only with `ResponseCode` `0` and the fields the
//!   operation needs; another code is a refusal; anything unreadable is no answer (the
//!   request may have been taken).
//! - A 4xx answer with an `errorCode` is a refusal; 5xx, 429 and throttling codes are no
//!   answer (busy), unless the operation reads a throttled 4xx as a refusal.
//! - What reaches an error is cleaned: codes to a short code alphabet, descriptions
//!   shortened, with every word of 7 or more digits or 20 or more characters masked
//!   (phone numbers, accounts, tokens Daraja echoes).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{DarajaError, NoAnswer, Refusal, is_throttling};
use crate::result_code::ResultCode;

/// Longest description kept in an error, in characters.
const MAX_DESCRIPTION_CHARS: usize = 120;
/// Longest code kept in an error.
const MAX_CODE_CHARS: usize = 40;
/// Digit runs with this many digits or more are masked in descriptions and codes.
const MASKED_DIGITS: usize = 7;
/// Words this long or longer are masked in descriptions.
const MASKED_WORD_CHARS: usize = 20;

/// Daraja's error body.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "errorCode")]
    code: String,
    #[serde(rename = "errorMessage", default)]
    message: Option<String>,
}

/// An error body, read.
#[derive(Debug)]
pub(crate) struct ErrorAnswer {
    /// Cleaned.
    pub(crate) code: String,
    /// As given (never put in an error as is: see [`short_description`]).
    pub(crate) message: String,
}

impl ErrorAnswer {
    pub(crate) fn read(body: &str) -> Option<Self> {
        let body: ErrorBody = serde_json::from_str(body).ok()?;
        Some(Self {
            code: clean_code(&body.code),
            message: body.message.unwrap_or_default(),
        })
    }

    fn is_throttling(&self) -> bool {
        is_throttling(&self.code, &self.message)
    }

    pub(crate) fn refusal(&self, http_status: u16) -> Refusal {
        Refusal {
            http_status,
            code: self.code.clone(),
            description: short_description(&self.message),
        }
    }
}

/// How an operation reads a throttled 4xx (e.g. 429 with an `errorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Throttled {
    /// A refusal: the gateway turned the request away, so it was not taken.
    Refused,
    /// No answer: the question was not answered (a query: ask again later).
    NoAnswer,
}

/// The error of a non-2xx answer.
pub(crate) fn failure(http_status: u16, body: &str, throttled_4xx: Throttled) -> DarajaError {
    let answer = ErrorAnswer::read(body);
    let throttled = http_status == 429 || answer.as_ref().is_some_and(ErrorAnswer::is_throttling);
    match answer {
        Some(answer)
            if (400..=499).contains(&http_status)
                && !(throttled && throttled_4xx == Throttled::NoAnswer) =>
        {
            DarajaError::Refused(answer.refusal(http_status))
        }
        answer if throttled => DarajaError::NoAnswer(NoAnswer::Busy {
            http_status,
            code: answer.map(|a| a.code),
        }),
        answer if (500..=599).contains(&http_status) => {
            DarajaError::NoAnswer(NoAnswer::ServerError {
                http_status,
                code: answer.map(|a| a.code),
            })
        }
        _ => DarajaError::NoAnswer(NoAnswer::Unreadable { http_status }),
    }
}

/// The acceptance envelope of a 2xx answer.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "ResponseCode")]
    code: ResultCode,
    #[serde(rename = "ResponseDescription", default)]
    description: Option<String>,
}

/// A 2xx answer: `T` when `ResponseCode` is `0`, a refusal for another code, no answer
/// when it cannot be read.
pub(crate) fn accepted<T: DeserializeOwned>(
    http_status: u16,
    body: &str,
) -> Result<T, DarajaError> {
    let unreadable = || DarajaError::NoAnswer(NoAnswer::Unreadable { http_status });
    let envelope: Envelope = serde_json::from_str(body).map_err(|_| unreadable())?;
    if !envelope.code.is_success() {
        return Err(DarajaError::Refused(Refusal {
            http_status,
            code: clean_code(envelope.code.as_str()),
            description: short_description(envelope.description.as_deref().unwrap_or("")),
        }));
    }
    serde_json::from_str(body).map_err(|_| unreadable())
}

/// A code as Daraja gave it when it is a short word of letters, digits, `.`, `_` and
/// `-` without a long digit run; `"unrecognised"` otherwise.
pub(crate) fn clean_code(raw: &str) -> String {
    let plain = !raw.is_empty()
        && raw.len() <= MAX_CODE_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let longest_digit_run = raw
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if plain && longest_digit_run < MASKED_DIGITS {
        raw.to_owned()
    } else {
        "unrecognised".to_owned()
    }
}

/// A description fit for an error: control characters dropped; every run of digits,
/// spaces and hyphens holding 7 or more digits, and every word (run of ASCII letters and
/// digits) of 20 or more characters, replaced by `#` (phone numbers however written,
/// accounts, tokens Daraja echoes); at most 120 characters.
pub(crate) fn short_description(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().filter(|c| !c.is_control()).collect();
    let mut out = String::with_capacity(chars.len().min(MAX_DESCRIPTION_CHARS));
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let run = if c.is_ascii_digit() {
            // Digits with the spaces and hyphens between them, to the last digit.
            let mut end = at;
            let mut digits = 0;
            for (i, d) in chars.iter().enumerate().skip(at) {
                if d.is_ascii_digit() {
                    digits += 1;
                    end = i + 1;
                } else if !matches!(d, ' ' | '-') {
                    break;
                }
            }
            (digits >= MASKED_DIGITS).then_some(end)
        } else {
            None
        };
        let word = chars
            .iter()
            .skip(at)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let starts_word = at == 0 || chars.get(at - 1).is_none_or(|p| !p.is_ascii_alphanumeric());
        match (run, starts_word && word >= MASKED_WORD_CHARS) {
            (Some(end), false) => {
                out.push('#');
                at = end;
            }
            (run, true) => {
                out.push('#');
                at = (at + word).max(run.unwrap_or(0));
            }
            (None, false) => {
                out.push(c);
                at += 1;
            }
        }
    }
    if out.chars().count() > MAX_DESCRIPTION_CHARS {
        out = out.chars().take(MAX_DESCRIPTION_CHARS - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_lose_long_digit_runs_and_length() {
        assert_eq!(
            short_description("Invalid PhoneNumber 254712345678 for 174379"),
            "Invalid PhoneNumber # for 174379"
        );
        assert_eq!(short_description(" Bad\nRequest "), "BadRequest");
        assert_eq!(short_description("0712345678"), "#");
        assert_eq!(short_description("to +254-712-345-678."), "to +#.");
        assert_eq!(short_description("0712 345 678 - 2"), "#");
        assert_eq!(short_description("Number254712345678"), "Number#");
        assert_eq!(
            short_description("Code 400.002.02 - 12 - 3"),
            "Code 400.002.02 - 12 - 3"
        );
        assert_eq!(
            short_description("Invalid Access Token - BJGFGOXv5aZnw90KkA4TDtu4Xdyf"),
            "Invalid Access Token - #"
        );
        assert_eq!(
            short_description("receipt OEI2AK4Q16"),
            "receipt OEI2AK4Q16"
        );
        let long = short_description(&"ab ".repeat(200));
        assert_eq!(long.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn codes_keep_to_a_code_alphabet() {
        for good in [
            "400.002.02",
            "500.001.1001",
            "C2B00012",
            "R000001",
            "1",
            "0",
        ] {
            assert_eq!(clean_code(good), good);
        }
        for bad in [
            "",
            "254712345678",
            "bad code",
            "x".repeat(41).as_str(),
            "<html>",
        ] {
            assert_eq!(clean_code(bad), "unrecognised", "{bad:?}");
        }
    }

    #[test]
    fn throttling_is_recognised_by_code_or_words() {
        assert!(is_throttling("500.003.02", ""));
        assert!(is_throttling("500.003.03", "Quota Violation"));
        assert!(is_throttling(
            "x",
            "System is busy. Please try again in few minutes."
        ));
        assert!(is_throttling("x", "Spike arrest violation"));
        assert!(!is_throttling(
            "400.002.02",
            "Bad Request - Invalid CheckoutRequestID"
        ));
    }
}
