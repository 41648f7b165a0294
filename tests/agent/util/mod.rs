//! Shared test helpers.
//!
//! - [`docker`]: the docker CLI, the locally built test image, self-removing containers.
//! - [`agent`]: an in-process agent on port 0 and an HTTP client.
//! - [`clients`]: `curl` and the `healthcheck` subcommand, independent clients.
//! - [`ws`]: a WebSocket client for the stream routes.
//! - [`fakes`]: daemons that restart, hang or report other engine versions.
//! - [`raw`]: HTTP/1.1 written and read by hand on a TCP socket.
//! - [`process`]: the real binary as a child process, with its RSS and open files.

mod agent;
mod clients;
pub mod docker;
mod fakes;
mod process;
mod raw;
mod ws;

pub use agent::*;
pub use clients::*;
pub use docker::*;
pub use fakes::*;
pub use process::*;
pub use raw::*;
pub use ws::*;

use serde_json::Value;

pub const PASSWORD: &str = "test-password-1";
pub const SECRET: &str = "test-secret-key-0123456789abcdef0123";
pub const MCP_KEY: &str = "test-mcp-key-0123456789";

/// Signs a token with the test secret using the oracle JWT library.
pub fn oracle_token(alg: jsonwebtoken::Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

pub fn now() -> i64 {
    docker_agent::clock::unix_now() as i64
}
