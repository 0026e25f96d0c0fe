//! The payments function's callbacks against DynamoDB Local, moto and the M-Pesa stand-in:
//! one test binary, one module per concern.

mod callbacks_api;
mod routes;
mod staff_api;
mod support;
mod sweep;
