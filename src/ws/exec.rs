//! The interactive terminal, `/api/v1/exec/ws/{id}?cmd=...`: a command run
//! with a TTY (`cmd` repeated for each argument; `/bin/sh` when absent),
//! relayed both ways over Docker's hijacked connection.
//!
//! - The client's binary messages are the terminal's input; its output
//!   comes back as binary messages. A text message `{"resize": [cols,
//!   rows]}` resizes the TTY; any other text closes with 1008.
//! - When the command exits, the stream closes with 1000 and the reason
//!   `exit N` (`exit unknown` when Docker does not say).
//! - When the client goes, the command's input ends and its process gets a
//!   hangup (SIGHUP, as a terminal's end sends; see
//!   [`crate::service::exec`] for where the agent can reach the process).
//! - Memory is bounded both ways: output is read only as fast as the client
//!   takes it, and the client's messages are read only as fast as the
//!   command takes its input (a few queued messages at most).
//!
//! Authentication and opening the command (the catalogue's terminal
//! operation) are the session's ([`super::session`]); pings, dead peers
//! and shutdown the peer's ([`super::peer`]).

use super::peer::{Peer, Stop, cut_off, departure};
use crate::app::App;
use crate::policy::Caller;
use crate::service::exec::Terminal;
use crate::streams::Close;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Client messages queued for the terminal's input at most.
pub const INBOX: usize = 8;
/// Largest piece of output sent in one message.
const CHUNK: usize = 16 * 1024;

/// `{"resize": [cols, rows]}`, each 1 to 65535.
fn resize(text: &str) -> Option<(u16, u16)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Resize {
        resize: (u16, u16),
    }
    let r: Resize = serde_json::from_str(text).ok()?;
    (r.resize.0 > 0 && r.resize.1 > 0).then_some(r.resize)
}

/// Runs the terminal `t` (its TTY: `io`) for `caller` until the command
/// exits or either side goes.
pub async fn run(
    app: Arc<App>,
    mut peer: Peer,
    inbox: mpsc::Receiver<Message>,
    caller: &Caller,
    t: Terminal,
    io: TokioIo<Upgraded>,
) {
    let s = &app.service;
    let (mut output, input) = tokio::io::split(io);
    let mut feeder = tokio::spawn(feed(app.clone(), t.exec_id.clone(), inbox, input));
    let mut gone = peer.gone.clone();
    let mut ping = peer.pings();
    let cut = cut_off(&app, caller);
    tokio::pin!(cut);
    let mut buf = vec![0; CHUNK];
    let stop = loop {
        let step = tokio::select! {
            read = output.read(&mut buf) => match read {
                Ok(0) | Err(_) => break None,
                Ok(n) => peer.write(std::iter::once(Message::binary(buf[..n].to_vec()))).await,
            },
            fed = &mut feeder => Err(fed.map_or(Stop::Gone, Stop::Close)),
            stop = departure(&mut gone) => Err(stop),
            _ = ping.tick() => peer.ping().await,
            close = &mut cut => Err(Stop::Close(close)),
        };
        if let Err(stop) = step {
            break Some(stop);
        }
    };
    feeder.abort();
    if stop.is_some() {
        s.hang_up(&t).await;
    }
    drop(output);
    let code = s.close_terminal(caller, t).await;
    match stop {
        None => {
            let reason = code.map_or("exit unknown".into(), |c| format!("exit {c}"));
            peer.close(Close::new(1000, reason)).await;
        }
        Some(Stop::Close(close)) => peer.close(close).await,
        Some(Stop::Gone) => peer.finish().await,
    }
}

/// Writes the client's binary messages to the terminal's input and applies
/// its resizes; ends the input when the client goes or the command stops
/// taking it. Returns only with the close owed for a text message that is
/// not a resize.
async fn feed(
    app: Arc<App>,
    exec_id: String,
    mut inbox: mpsc::Receiver<Message>,
    mut input: impl AsyncWrite + Unpin,
) -> Close {
    while let Some(msg) = inbox.recv().await {
        match msg {
            Message::Binary(bytes) if input.write_all(&bytes).await.is_err() => break,
            Message::Text(text) => {
                let Some((cols, rows)) = resize(&text) else {
                    let why = r#"text messages must be {"resize": [cols, rows]}"#;
                    return Close::new(1008, why);
                };
                let resized = app.service.resize_terminal(&exec_id, cols, rows).await;
                if let Err(e) = resized {
                    log::debug!(error = e.message().as_str(); "terminal resize failed");
                }
            }
            _ => {}
        }
    }
    let _ = input.shutdown().await;
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_resize_is_one() {
        assert_eq!(resize(r#"{"resize": [120, 40]}"#), Some((120, 40)));
        for bad in [
            r#"{"resize": [0, 40]}"#,
            r#"{"resize": [120]}"#,
            r#"{"resize": [70000, 40]}"#,
            r#"{"resize": [120, 40], "x": 1}"#,
            r#"{"size": [120, 40]}"#,
            "ls\n",
        ] {
            assert_eq!(resize(bad), None, "{bad}");
        }
    }
}
