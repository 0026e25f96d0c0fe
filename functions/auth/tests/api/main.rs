//! The auth function's API (sign-in with the local OpenID provider, our tokens, JWKS) against the local emulator:
//! one test binary (linking the AWS SDK once), one module per concern.

mod first_sign_in;
mod routes;
mod sign_in_api;
