//! docker-agent: manage and watch a host's Docker containers remotely over
//! REST, WebSocket streams and MCP, from one small static binary.
//!
//! # Layers
//!
//! Every module sits in one row; a module imports only from rows with a
//! smaller number, never from its own row or above, so the imports run
//! down this table and no two modules import each other. `tests/layers.rs`
//! reads `src/` against this table and names any import that does not.
//! Within a module, its files import each other one way too.
//!
//! 1. Foundations: [`clock`] (Unix time, RFC 3339), [`contract`] (the v1
//!    contract's JSON shapes), [`error`] (the one error type and its
//!    status and JSON), [`files`] (an operator's small files),
//!    [`membership`] (a fleet's members as the operator names them),
//!    [`net`] (client address, trusted proxies, loopback), [`random`] (ids
//!    and secrets),
//!    [`signal`] (SIGTERM/SIGINT), [`healthcheck`] (the probe of
//!    shell-less images).
//! 2. Leaves the others push to or draw from: [`counters`] (the agent's
//!    own series), [`logging`] (log lines), [`conn`] (connection slots and
//!    write deadlines), [`limit`] (token-bucket rate limits).
//! 3. Transports and records: [`docker`] (the Docker Engine API client,
//!    its decoders and endpoints), [`http`] (bodies, CORS, request ids,
//!    query strings, credentials), [`auth`] (JWT, login, secrets),
//!    [`audit`] (the audit trail).
//! 4. [`input`] (the one reader of an operation's inputs), [`policy`]
//!    (roles, scoped tokens, scope, read-only, confirmation: every access
//!    decision), [`tls`] (HTTPS/WSS, mutual TLS).
//! 5. [`config`] (settings from the environment, validated once),
//!    [`service`] (one method per Docker operation, policy asked first).
//! 6. [`streams`]: the shared streams of logs, stats and events.
//! 7. [`fleet`]: the other hosts of the fleet, probed, and requests and
//!    streams for them sent on.
//! 8. [`app`]: the state every request shares.
//! 9. [`ops`]: the operation catalogue — each operation once.
//! 10. [`router`]: the route table, from the catalogue.
//! 11. Surfaces: [`api`] (REST), [`ws`] (WebSocket streams and the
//!     terminal), [`mcp`] (MCP for AI assistants), [`ui`] (the dashboard),
//!     [`metrics`] (Prometheus).
//! 12. [`server`] (accept loop, request pipeline, graceful shutdown),
//!     [`startup`] (what the start says).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod conn;
pub mod contract;
pub mod counters;
pub mod docker;
pub mod error;
pub mod files;
pub mod fleet;
pub mod healthcheck;
pub mod http;
pub mod input;
pub mod limit;
pub mod logging;
pub mod mcp;
pub mod membership;
pub mod metrics;
pub mod net;
pub mod ops;
pub mod policy;
pub mod random;
pub mod router;
pub mod server;
pub mod service;
pub mod signal;
pub mod startup;
pub mod streams;
pub mod tls;
pub mod ui;
pub mod ws;
