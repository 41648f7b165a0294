//! A small hand-written Docker Engine API client.
//!
//! - [`client`]: transport over the Unix socket or TCP, deadlines, version negotiation.
//! - The endpoints, one file per Docker area (no Docker URL is written
//!   anywhere else): [`containers`], [`exec`], [`images`], [`volumes`],
//!   [`networks`], [`system`] (version, info, events).
//! - [`path`]: percent-encoding of every user-supplied path segment and query value.
//! - [`models`]: the Docker JSON we read.
//! - [`frames`]: the multiplexed stdout/stderr log stream decoder.
//! - [`lines`]: log line assembly (partial lines, CRLF, long lines, bad UTF-8).
//! - [`jsonstream`]: splitter for streams of JSON objects (events, stats).
//! - [`registry_auth`]: registry credentials as `X-Registry-Auth`.
//! - [`error`]: Docker failures, with Docker's status and message kept.

pub mod client;
pub mod containers;
pub mod error;
pub mod exec;
pub mod frames;
pub mod images;
pub mod jsonstream;
pub mod lines;
pub mod models;
pub mod networks;
pub mod path;
pub mod registry_auth;
pub mod resume;
pub mod system;
pub mod volumes;

pub use client::{Docker, Endpoint};
pub use error::DockerError;
