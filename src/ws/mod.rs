//! Live streams over WebSocket: `/api/v1/logs/ws/{id}`, `/api/v1/stats/ws/{id}`
//! and `/api/v1/events/ws`; and the interactive terminal `/api/v1/exec/ws/{id}`.
//!
//! - this module: the HTTP side — checks the upgrade request, answers `101`
//!   and hands the upgraded connection to a session task;
//! - [`session`]: one client — token check (close 1008), the stream's
//!   operation run from the catalogue ([`crate::ops`]), batching writes,
//!   ping/pong, shutdown (close 1001); the streams themselves, shared and
//!   lossless, are [`crate::streams`]';
//! - [`exec`]: the terminal, relaying a command's TTY both ways.
//!
//! The `Origin` is checked before the upgrade, by the rule MCP uses (none,
//! the agent's own, or one listed in `CORS_ORIGINS`; else 403), so a page
//! on another site cannot open a stream with a token it got hold of.
//! The token is checked after the upgrade, so a browser sees the refusal as
//! a close frame with code 1008 and a readable reason rather than a failed
//! handshake; a stream closes with 1008 when its token expires. Both
//! refusals are recorded in the audit trail (`stream.open`).

mod exec;
mod peer;
mod session;

use crate::app::App;
use crate::audit::{Action, Surface};
use crate::conn::{ConnectionSlot, WriteLimit};
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::router::Route;
use base64::Engine;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Largest message a client may send us (clients only send control frames).
const MAX_INCOMING: usize = 64 * 1024;

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The `Sec-WebSocket-Key` of a valid upgrade request.
fn upgrade_key(headers: &HeaderMap) -> Result<String, Error> {
    if !has_token(headers, header::UPGRADE, "websocket")
        || !has_token(headers, header::CONNECTION, "upgrade")
    {
        return Err(Error::UpgradeRequired);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        return Err(Error::BadRequest(
            "Unsupported Sec-WebSocket-Version; use 13".into(),
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| {
            base64::engine::general_purpose::STANDARD
                .decode(k)
                .is_ok_and(|b| b.len() == 16)
        })
        .ok_or_else(|| Error::BadRequest("Missing or malformed Sec-WebSocket-Key".into()))?;
    Ok(key.to_string())
}

fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(4 << 20)
        .max_message_size(Some(MAX_INCOMING))
        .max_frame_size(Some(MAX_INCOMING))
}

/// Answers a WebSocket route: `101 Switching Protocols`, then the session
/// runs on the upgraded connection in its own task.
pub fn accept(
    app: &Arc<App>,
    route: Route,
    mut req: Request<Incoming>,
) -> Result<Response<Body>, Error> {
    let key = upgrade_key(req.headers())?;
    app.cors.check_origin(req.headers()).inspect_err(|e| {
        let ctx = req.extensions().get();
        app.audit.refused(ctx, Surface::Ws, Action::StreamOpen, e);
    })?;
    if let Some(limit) = req.extensions().get::<WriteLimit>() {
        // The session closes dead peers itself; this is only the backstop.
        limit.set(peer::dead_after(app.config.server.ping_interval) * 2);
    }
    let stream = session::StreamRequest::new(route, &req).ok_or(Error::RouteNotFound)?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (app, guard) = (app.clone(), app.track_stream());
    let slot = req
        .extensions()
        .get::<ConnectionSlot>()
        .and_then(ConnectionSlot::take);
    tokio::spawn(async move {
        let _still_a_connection = slot;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            Some(socket_config()),
        )
        .await;
        session::run(app, ws, stream).await;
        drop(guard);
    });
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const GOOD: [(&str, &str); 4] = [
        ("upgrade", "WebSocket"),
        ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_browser_upgrade_request_is_accepted() {
        assert_eq!(
            upgrade_key(&headers(&GOOD)).unwrap(),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        // RFC 6455's worked example.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn plain_http_gets_426_and_bad_handshakes_400() {
        assert_eq!(upgrade_key(&headers(&[])), Err(Error::UpgradeRequired));
        let mut v12 = GOOD;
        v12[2] = ("sec-websocket-version", "12");
        assert_eq!(upgrade_key(&headers(&v12)).unwrap_err().status(), 400);
        let mut bad_key = GOOD;
        bad_key[3] = ("sec-websocket-key", "short");
        assert_eq!(upgrade_key(&headers(&bad_key)).unwrap_err().status(), 400);
    }
}
