//! Reloading the tokens file on SIGHUP (`kill -HUP`), beside the TLS
//! watcher that listens for the same signal: each has its own signal
//! stream and both are woken. A file that no longer parses keeps the tokens
//! in force and logs why; a token removed from the file stops working at
//! once, and streams opened with it close ([`super::Policy::revoked`]).

use super::Policy;
use std::future::Future;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};

/// Listens for SIGHUP from the moment it is called (so a signal sent once
/// the agent says it is listening is never the default "terminate") and
/// reloads `policy`'s tokens at each; `None` when no tokens file is set.
pub fn on_hangup(policy: Arc<Policy>) -> Option<impl Future<Output = ()>> {
    if !policy.has_tokens_file() {
        return None;
    }
    let hangup = signal(SignalKind::hangup());
    Some(async move {
        let mut hangup = match hangup {
            Ok(s) => s,
            Err(e) => {
                log::error!(error = e.to_string().as_str(); "cannot listen for SIGHUP; the tokens file will not be reloaded");
                return;
            }
        };
        while hangup.recv().await.is_some() {
            match policy.reload_tokens() {
                Ok(count) => log::info!(tokens = count; "API tokens reloaded"),
                Err(e) => {
                    log::error!(error = e.as_str(); "API_TOKENS_FILE reload failed; the tokens in force stay")
                }
            }
        }
    })
}
