//! Property tests of the code that reads untrusted bytes: the log-frame
//! decoder, the JSON-stream splitter, the line joiner, the JWT parser, the
//! router, the query parser and the JSON-RPC parser. Each never panics on
//! arbitrary input, and valid input — written by an encoder in these tests
//! or by an oracle crate — comes back unchanged however it is chunked.
//!
//! Only the crate's public API is used. Every property runs `PROPTEST_CASES`
//! cases (proptest's default of 256 when unset); `make fuzz` runs 100,000.

mod chunks;
mod frames;
mod json;
mod jsonrpc;
mod jsonstream;
mod jwt;
mod lines;
mod percent;
mod query;
mod router;
