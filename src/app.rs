//! The shared state every request sees: configuration, the service layer
//! over the Docker client, auth, the rate limiter, CORS rules, and the
//! shutdown signal long-lived streams listen to.

use crate::auth::Auth;
use crate::config::Config;
use crate::docker::Docker;
use crate::http::cors::Cors;
use crate::limit::Limiter;
use crate::service::Service;
use std::sync::Arc;
use tokio::sync::watch;

pub struct App {
    pub config: Config,
    pub service: Service,
    pub auth: Auth,
    pub limiter: Limiter,
    pub cors: Cors,
    closing: watch::Sender<bool>,
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
            closing: watch::channel(false).0,
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
}
