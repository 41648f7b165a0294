//! The shared state every request sees: configuration, the service layer
//! over the Docker client, the access policy, auth, the rate limiter, CORS
//! rules, the audit trail, and the shutdown signal long-lived streams listen to.
//! A surface's own long-lived state (MCP's sessions and subscriptions) is
//! kept here by type ([`App::surface`]), so the app knows no surface and
//! the surfaces stay above it in the layer table.

use crate::audit::Audit;
use crate::auth::Auth;
use crate::config::Config;
use crate::docker::Docker;
use crate::fleet::Fleet;
use crate::fleet::identity::Secrets;
use crate::http::cors::Cors;
use crate::limit::Limiter;
use crate::policy::Policy;
use crate::service::Service;
use crate::streams::Streams;
use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

pub struct App {
    pub config: Config,
    pub service: Arc<Service>,
    /// Who may do what: consulted by the service, and asked who a credential is.
    pub policy: Arc<Policy>,
    pub auth: Auth,
    pub limiter: Limiter,
    pub cors: Cors,
    /// Where logins, refusals and actions are recorded.
    pub audit: Arc<Audit>,
    /// The shared streams of logs, stats and events.
    pub streams: Streams,
    /// The other hosts of this agent's fleet.
    pub fleet: Arc<Fleet>,
    /// Each surface's own state, one value per type, made on first use.
    surfaces: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
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
    /// The app for `config`, in the container the agent finds itself in.
    pub fn new(config: Config) -> Arc<App> {
        App::in_container(config, crate::policy::own::detect())
    }

    /// The app for `config`, told which container it runs in (`own`).
    pub fn in_container(config: Config, own: Option<String>) -> Arc<App> {
        App::in_fleet(config, own, None)
    }

    /// The app for `config`, in container `own`, dialling the other agents
    /// of its fleet with `fleet_client` (`None`: no fleet).
    pub fn in_fleet(
        config: Config,
        own: Option<String>,
        fleet_client: Option<Arc<rustls::ClientConfig>>,
    ) -> Arc<App> {
        let docker = Docker::new(&config.docker.endpoint, config.docker.timeout);
        let rl = &config.rate_limit;
        let policy = Arc::new(Policy::new(&config.policy, own));
        let audit = Arc::new(Audit::new(config.audit_log.as_ref()));
        crate::counters::mark_start();
        let service = Arc::new(
            Service::new(docker, policy.clone(), audit.clone())
                .with_metrics_cache(config.metrics.cache),
        );
        let secrets = Secrets {
            secret_key: config.auth.secret_key.clone(),
            mcp_api_key: config.mcp.api_key.clone(),
            policy: policy.clone(),
        };
        let fleet = Fleet::new(config.fleet.clone(), fleet_client, secrets, service.clone());
        Arc::new(App {
            fleet: Arc::new(fleet),
            streams: Streams::new(service.clone()),
            service,
            policy,
            auth: Auth::new(&config.auth),
            limiter: Limiter::new(rl.enabled, rl.requests, rl.window),
            cors: Cors::new(&config.cors),
            audit,
            surfaces: Mutex::default(),
            closing: watch::channel(false).0,
            live: watch::channel(0).0,
            config,
        })
    }

    /// The surface state of type `T`, made with its `Default` the first
    /// time it is asked for; the same value for the life of the app.
    pub fn surface<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut held = self.surfaces.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = held.iter().find_map(|s| s.clone().downcast::<T>().ok()) {
            return found;
        }
        let made = Arc::new(T::default());
        held.push(made.clone());
        made
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Vars;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Default)]
    struct Hits(AtomicU32);

    #[derive(Default)]
    struct Other(AtomicU32);

    #[tokio::test]
    async fn a_surface_state_is_made_once_and_kept_apart_by_type() {
        let config = Config::from_vars(&Vars::from_pairs([(
            "API_PASSWORD",
            "a-long-test-password",
        )]))
        .unwrap();
        let app = App::in_container(config, None);
        app.surface::<Hits>().0.fetch_add(2, Ordering::Relaxed);
        app.surface::<Other>().0.fetch_add(5, Ordering::Relaxed);
        assert!(Arc::ptr_eq(&app.surface::<Hits>(), &app.surface::<Hits>()));
        assert_eq!(app.surface::<Hits>().0.load(Ordering::Relaxed), 2);
        assert_eq!(app.surface::<Other>().0.load(Ordering::Relaxed), 5);
    }
}
