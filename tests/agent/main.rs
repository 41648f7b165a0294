//! Integration tests: a real agent on port 0 against the real Docker daemon,
//! with containers built from the locally imported test image.

mod arm;
mod audit;
mod auth;
mod binary;
mod confirm;
mod containers;
mod dashboard;
mod deploy;
mod docs;
mod escapes;
mod exec;
mod failures;
mod faults;
mod fleet;
mod fleet_docs;
mod front_door;
mod hostile;
mod hostile_table;
mod keepalive;
mod lifecycle;
mod lossless;
mod mcp;
mod memory;
mod metrics;
mod openapi;
mod pipeline;
mod policy;
mod portainer;
mod pull;
mod resources;
mod roles;
mod soak;
mod streams;
mod tls;
mod util;
