//! Process signals: a future that completes on SIGTERM or SIGINT.

/// Waits for SIGTERM (orchestrators, `docker stop`) or SIGINT (Ctrl-C).
pub async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            log::error!(error = e.to_string().as_str(); "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => log::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => log::info!("SIGINT received"),
    }
}
