//! What the MCP transports share: reading a message body (capped in size
//! and time), SSE framing (an event, a `text/event-stream` response, and
//! whether the client's `Accept` takes one), the keep-alive comment of
//! every MCP stream, and the header that names a handshake-era session.

use super::jsonrpc;
use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body};
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::fmt::Display;

/// The header naming a handshake-era Streamable HTTP session.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// The keep-alive comment of every MCP stream.
pub const KEEP_ALIVE: &[u8] = b": ping\n\n";

/// Reads an MCP message: capped in size, and in time like any request.
pub async fn read_body(app: &App, req: Request<Incoming>) -> Result<(HeaderMap, Bytes), Error> {
    let deadline = app.config.server.header_read_timeout;
    let (parts, bytes) = body::read_request(req, jsonrpc::MAX_BODY, deadline).await?;
    Ok((parts.headers, bytes))
}

/// One SSE event.
pub fn event(name: &str, data: impl Display) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// A `text/event-stream` response made of `events`.
pub fn event_stream(
    events: impl futures_util::Stream<Item = Bytes> + Send + 'static,
) -> Response<Body> {
    let frames = events.map(|bytes| Ok::<_, Infallible>(Frame::data(bytes)));
    let mut resp = Response::new(StreamBody::new(frames).boxed_unsync());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Whether the client's `Accept` lists `text/event-stream`.
pub fn accepts_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}
