//! The customers function's API against the local emulator:
//! one test binary (linking the AWS SDK once), one module per concern.

mod customers_api;
mod routes;
mod staff_api;
mod support;
mod unlisted;
