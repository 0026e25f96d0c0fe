//! One bootstrap for every Lambda of the system. A `main.rs` is wiring only:
//!
//! ```text
//! bootstrap::logging::init();                   // JSON logs, RUST_LOG
//! let env = Env::process();                     // the one environment lookup
//! let config = SomeConfig::from_env(&env)?;     // typed, validated, secrets in `secrecy`
//! let aws = Aws::load()?;                 // the SDK configuration, loaded once
//! bootstrap::run_http(router).await             // or run_events(handler)
//! ```
//!
//! Invariants: configuration is read once, at cold start, through [`Env`] (tests pass a
//! map instead of the process environment), and every misconfiguration is one
//! [`ConfigError`] naming the variable; the AWS configuration is resolved once and every
//! client shares it; this crate knows no route and no use case.

pub mod aws;
pub mod env;
pub mod history;
pub mod logging;
pub mod orders;
pub mod payments;
mod run;

pub use aws::Aws;
pub use env::{ConfigError, Env};
pub use run::{Error, run_events, run_http};
