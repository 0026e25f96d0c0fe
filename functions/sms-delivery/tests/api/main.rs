//! The SMS delivery-report function against DynamoDB Local, moto and the Africa's Talking
//! stand-in: one test binary, one module per concern.

mod reports;
mod routes;
mod support;
mod through_the_stand_in;
