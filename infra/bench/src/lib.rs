//! The instruments of `make bench` and `make load`, shared by their two binaries:
//!
//! - [`wire`]: time on the wire, measured below the SDK, and the local clients that
//!   record it (a bench's *own time* is its latency minus this);
//! - [`writes`]: writes per partition key, recorded by an SDK interceptor (`make load`);
//! - [`payments`]: the payments service the measured orders function runs with.
//!
//! Never linked by a function or its tests: what tests share is in `testkit`.

pub mod payments;
pub mod wire;
pub mod writes;
