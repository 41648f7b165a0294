//! Certificate reloads without a restart: the certificate, key and client
//! CA files are polled for a change of modification time or size every few
//! seconds (renewals by certbot or cert-manager replace them), and SIGHUP
//! reloads at once. A failed reload (say, a key written before its
//! certificate) keeps the previous certificate; the next write of a file
//! changes its stamp again and is retried.

use super::Tls;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// How often the files are checked for a change.
const POLL: Duration = Duration::from_secs(2);

/// Reloads `tls` when its files change or on SIGHUP; runs until the
/// process ends. A generated certificate has nothing to reload.
pub async fn watch(tls: Arc<Tls>) {
    if !tls.from_files() {
        return;
    }
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            log::error!(error = e.to_string().as_str(); "cannot listen for SIGHUP; reloading on file changes only");
            None
        }
    };
    let mut seen = tls.stamp();
    loop {
        let signalled = tokio::select! {
            _ = tokio::time::sleep(POLL) => false,
            Some(()) = async { hangup.as_mut()?.recv().await } => true,
        };
        let now = tls.stamp();
        if !signalled && now == seen {
            continue;
        }
        seen = now;
        match tls.reload() {
            Ok(()) => {
                log::info!(trigger = if signalled { "SIGHUP" } else { "file change" }; "TLS certificate reloaded");
            }
            Err(e) => {
                log::error!(variable = e.var, error = e.message.as_str(); "TLS reload failed; still serving the previous certificate");
            }
        }
    }
}
