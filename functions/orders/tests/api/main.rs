//! The orders function's API, its concurrency proofs and price-change races against the local emulator:
//! one test binary (linking the AWS SDK once), one module per concern.

mod concurrency;
mod failed_notifications;
mod flash_sale;
mod history;
mod orders_api;
mod outage;
mod pay;
mod price_change;
mod routes;
mod sharded_lists;
mod staff_names;
mod support;
