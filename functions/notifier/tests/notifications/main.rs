//! The notifier against the local AWS emulator (DynamoDB, SQS, SES v2) with Africa's
//! Talking replaced by a wiremock server: one test binary, one module per concern.

mod batch;
mod customer_messages;
mod dead_letters;
mod delivery;
mod failed_list;
mod logs;
mod reconciler;
mod support;
