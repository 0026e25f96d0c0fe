//! The categories function's API against the local emulator:
//! one test binary (linking the AWS SDK once), one module per concern.

mod categories_api;
mod routes;
