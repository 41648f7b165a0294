//! Shared test helpers.
//!
//! - [`docker`]: the docker CLI, the locally built test image, self-removing containers.
//! - [`docs`]: the README and `docs/` pages, their recipes and the settings table.
//! - [`agent`]: an in-process agent on port 0 and an HTTP client.
//! - [`browser`]: headless Chromium over WebDriver, for the dashboard.
//! - [`clients`]: `curl` and the `healthcheck` subcommand, independent clients.
//! - [`ws`]: a WebSocket client for the stream routes.
//! - [`fakes`]: daemons that restart, hang or report other engine versions.
//! - [`raw`]: HTTP/1.1 written and read by hand on a TCP socket.
//! - [`mcp`]: stateless MCP calls with the MCP key or a scoped token.
//! - [`process`]: the real binary as a child process, with its RSS and open files.
//! - [`fleet`]: several real daemons, each in a network namespace with an agent beside it.
//! - [`prometheus`]: a real Prometheus server with the test's configuration.
//! - [`dns`]: a DNS server of the test's, answering the names it is given.

mod agent;
mod browser;
mod clients;
mod dns;
pub mod docker;
mod docs;
mod fakes;
mod fleet;
mod mcp;
mod process;
mod prometheus;
mod raw;
mod ws;

pub use agent::*;
pub use browser::*;
pub use clients::*;
pub use dns::*;
pub use docker::*;
pub use docs::*;
pub use fakes::*;
pub use fleet::*;
pub use mcp::*;
pub use process::*;
pub use prometheus::*;
pub use raw::*;
pub use ws::*;

use docker_agent::policy::{Role, tokens};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const PASSWORD: &str = "test-password-1";
pub const SECRET: &str = "test-secret-key-0123456789abcdef0123";
pub const MCP_KEY: &str = "test-mcp-key-0123456789";
/// The bearer token Prometheus scrapes `/metrics` with (`METRICS_TOKEN`).
pub const METRICS_TOKEN: &str = "scrape-0123456789abcdef";
/// The settings every test agent signs and checks credentials with.
pub const CREDENTIALS: [(&str, &str); 3] = [
    ("SECRET_KEY", SECRET),
    ("API_PASSWORD", PASSWORD),
    ("MCP_API_KEY", MCP_KEY),
];

/// Signs a token with the test secret using the oracle JWT library.
pub fn oracle_token(alg: jsonwebtoken::Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// The value of `name` in the `.env` file a recipe wrote in `dir`.
pub fn dotenv_value(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join(".env")).unwrap();
    let prefix = format!("{name}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} in .env: {text}"))
        .to_string()
}

pub fn now() -> i64 {
    docker_agent::clock::unix_now() as i64
}

/// A tokens file holding `entries` (name, role, token), in a fresh directory.
pub fn tokens_file(entries: &[(&str, Role, &str)]) -> PathBuf {
    let path = temp_dir("tokens").join("tokens");
    write_tokens(&path, entries);
    path
}

pub fn write_tokens(path: &Path, entries: &[(&str, Role, &str)]) {
    let text: String = entries
        .iter()
        .map(|(name, role, token)| format!("{}\n", tokens::line(name, *role, token)))
        .collect();
    std::fs::write(path, format!("# test tokens\n{text}")).unwrap();
}
