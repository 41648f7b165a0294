//! docker-agent: manage and watch a host's Docker containers remotely over
//! REST, WebSocket streams and MCP, from one small static binary.
//!
//! # Layout
//! - [`config`]: settings from the environment and `.env`, validated once.
//! - [`app`]: the state shared by every request.
//! - [`server`]: accept loop, connection cap, graceful shutdown; [`signal`]: SIGTERM/SIGINT.
//! - [`tls`]: HTTPS/WSS: certificates from files (reloaded) or generated, mutual TLS
//!   and the log of refused client certificates.
//! - [`healthcheck`]: the `docker-agent healthcheck` probe for shell-less images.
//! - [`startup`]: what the start says: the dashboard's and metrics' URLs, the plain-text warning.
//! - [`http`]: request pipeline, router, CORS, request ids, bodies, query strings.
//! - [`api`]: REST handlers of `/api/v1`.
//! - [`ws`]: WebSocket streams of logs, stats and events, shared and bounded.
//! - [`ui`]: the embedded dashboard at `/` and its strict headers.
//! - [`mcp`]: MCP for AI assistants: JSON-RPC, tools, resources, prompts,
//!   change notifications, legacy SSE and Streamable HTTP.
//! - [`service`]: one method per Docker operation — the single path every surface takes.
//! - [`policy`]: roles, scoped tokens, container scope, read-only modes — every access decision.
//! - [`docker`]: the hand-written Docker Engine API client and its decoders.
//! - [`models`]: the contract's JSON shapes.
//! - [`auth`]: in-house JWT, login, bearer tokens, constant-time secrets.
//! - [`audit`]: the audit trail: one JSON record per login, refusal or action.
//! - [`metrics`]: Prometheus series of the agent and of its containers (`/metrics`).
//! - [`limit`]: token-bucket rate limiter; [`net`]: client address and trusted proxies.
//! - [`error`]: the error type and its status/JSON mapping.
//! - [`logging`]: JSON or coloured log lines; [`clock`]: RFC 3339; [`random`]: ids and secrets.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod conn;
pub mod counters;
pub mod docker;
pub mod error;
pub mod files;
pub mod healthcheck;
pub mod http;
pub mod input;
pub mod limit;
pub mod logging;
pub mod mcp;
pub mod metrics;
pub mod models;
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
