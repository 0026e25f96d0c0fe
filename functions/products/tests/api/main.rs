//! The products function's API against the local emulator:
//! one test binary (linking the AWS SDK once), one module per concern.

mod hostile;
mod products_api;
mod routes;
