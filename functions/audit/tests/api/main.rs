//! The audit function's API against the local emulator, with the categories and products
//! functions making the changes it lists: one test binary, one module per concern.

mod catalog_history;
mod routes;
mod support;
