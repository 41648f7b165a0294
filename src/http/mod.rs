//! HTTP plumbing shared by every surface.
//!
//! - [`body`]: response builders and the capped body reader.
//! - [`query`]: query-string decoding and typed parameters.
//! - [`cors`]: cross-origin rules and the `Origin` check.
//! - [`credential`]: the credential a request presents, for every surface.
//! - [`request_id`]: `X-Request-ID` handling.

pub mod body;
pub mod cors;
pub mod credential;
pub mod query;
pub mod request_id;
