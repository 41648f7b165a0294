//! The shared state every request sees: configuration, the service layer
//! over the Docker client, auth, the rate limiter, CORS rules, the audit
//! trail, and the shutdown signal long-lived streams listen to.

use crate::audit::Audit;
use crate::auth::Auth;
use crate::config::Config;
use crate::docker::Docker;
use crate::http::cors::Cors;
use crate::limit::Limiter;
use crate::mcp::McpState;
use crate::service::Service;
use crate::ws::hub::Hub;
use crate::ws::topics::StreamKey;
use std::sync::Arc;
use tokio::sync::watch;

pub struct App {
    pub config: Config,
    pub service: Service,
    pub auth: Auth,
    pub limiter: Limiter,
    pub cors: Cors,
    /// Where logins, refusals and actions are recorded.
    pub audit: Audit,
    /// Shared upstreams of the WebSocket streams.
    pub streams: Arc<Hub<StreamKey>>,
    /// MCP sessions.
    pub mcp: McpState,
    closing: watch::Sender<bool>,
    /// Long-lived stream tasks still running (WebSocket sessions).
    live: watch::Sender<usize>,
}

/// Counts one running stream task while alive.
pub struct StreamGuard(watch::Sender<usize>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl App {
    pub fn new(config: Config) -> Arc<App> {
        let docker = Docker::new(&config.docker.endpoint, config.docker.timeout);
        let rl = &config.rate_limit;
        Arc::new(App {
            service: Service::new(docker),
            auth: Auth::new(&config.auth),
            limiter: Limiter::new(rl.enabled, rl.requests, rl.window),
            cors: Cors::new(&config.cors),
            audit: Audit::new(config.audit_log.as_ref()),
            streams: Hub::new(),
            mcp: McpState::new(),
            closing: watch::channel(false).0,
            live: watch::channel(0).0,
            config,
        })
    }

    /// Becomes `true` when the server begins shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub(crate) fn begin_shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// Registers a long-lived stream task until the guard drops.
    pub fn track_stream(&self) -> StreamGuard {
        self.live.send_modify(|n| *n += 1);
        StreamGuard(self.live.clone())
    }

    /// Completes when no stream task is running.
    pub async fn streams_done(&self) {
        let _ = self.live.subscribe().wait_for(|n| *n == 0).await;
    }
}
