//! Process signals: a future that completes on SIGTERM or SIGINT.

use std::future::Future;

/// Listens for SIGTERM (orchestrators, `docker stop`) and SIGINT (Ctrl-C)
/// from the moment it is called — before the agent announces it is
/// listening, so an early signal is never the default "kill at once" —
/// and completes when one arrives.
pub fn terminate() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let (mut term, mut int) = match (term, int) {
            (Ok(t), Ok(i)) => (t, i),
            (Err(e), _) | (_, Err(e)) => {
                log::error!(error = e.to_string().as_str(); "cannot listen for SIGTERM/SIGINT");
                return std::future::pending().await;
            }
        };
        tokio::select! {
            _ = term.recv() => log::info!("SIGTERM received"),
            _ = int.recv() => log::info!("SIGINT received"),
        }
    }
}
