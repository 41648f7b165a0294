//! HTTP plumbing shared by every surface.
//!
//! - [`handler`]: the ordered request pipeline (ids, CORS, route, limits, auth, log).
//! - [`router`]: the route table.
//! - [`body`]: response builders and the capped body reader.
//! - [`query`]: query-string decoding and typed parameters.
//! - [`cors`]: cross-origin rules.
//! - [`request_id`]: `X-Request-ID` handling.

pub mod body;
pub mod cors;
pub mod handler;
pub mod query;
pub mod request_id;
pub mod router;
