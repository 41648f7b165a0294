//! A request for another host, sent on as it came: `/api/v1/hosts/{host}/…`
//! becomes the same method, path (without `/hosts/{host}`), query, headers
//! and streamed body on the owner's fleet port, with the caller's own
//! credential and `X-Forwarded-For` naming the caller. The owner
//! authenticates it, applies its policy and audits it; the answer comes
//! back as the owner gave it. `X-Forwarded-Host` names the host the caller
//! asked for (this agent's address as the caller knew it), which the owner
//! holds a browser's `Origin` to. A WebSocket stream is passed through byte
//! for byte once the owner accepts it, so its frames, close codes and
//! reasons are the owner's, and a reader that is slow slows the owner's
//! stream (TCP's flow control end to end) instead of filling a buffer.
//! [`send`] is the one way a request of this agent's own (an MCP call it
//! sends on) reaches an owner.

use super::link::Outgoing;
use super::members::Remote;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::query::percent_decode;
use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The prefix of a route for a named host.
const HOSTS: &str = "/api/v1/hosts/";

/// A request path for a named host: the host as given (percent-decoded),
/// and the path it names on that host (`None` for the host itself).
pub fn split(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix(HOSTS)?;
    let (host, inner) = match rest.split_once('/') {
        Some((host, inner)) => (host, Some(inner)),
        None => (rest, None),
    };
    if host.is_empty() {
        return None;
    }
    let inner = inner.filter(|i| !i.is_empty());
    Some((
        percent_decode(host, false),
        inner.map(|i| format!("/api/v1/{i}")),
    ))
}

/// The header naming the host a forwarded request's caller asked for.
pub const FORWARDED_HOST: &str = "x-forwarded-host";

/// A WebSocket stream passed through: runs until either side closes.
pub type Pipe = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The headers that belong to one connection, not to the request.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::HOST,
];

/// Sends `req` to `member` as `path_and_query`, for `client`; gives the
/// owner's answer, and for an accepted WebSocket the pipe to run.
pub async fn forward(
    member: &Remote,
    name: &str,
    mut req: Request<Incoming>,
    path_and_query: &str,
    client: IpAddr,
) -> Result<(Response<Body>, Option<Pipe>), Error> {
    let upgrade = is_upgrade(req.headers());
    let from_client = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (parts, incoming) = req.into_parts();
    let mut sent = Request::builder()
        .method(parts.method)
        .uri(path_and_query)
        .body(incoming.map_err(Into::into).boxed_unsync() as Outgoing)
        .map_err(|_| Error::BadRequest("the request's path cannot be sent on".into()))?;
    let headers = sent.headers_mut();
    copy_end_to_end(&parts.headers, headers);
    match parts.headers.get(header::HOST) {
        Some(asked) => headers.insert(HeaderName::from_static(FORWARDED_HOST), asked.clone()),
        None => headers.remove(FORWARDED_HOST),
    };
    headers.insert(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_str(&client.to_string()).map_err(|_| Error::Internal)?,
    );
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    }
    let mut answer = send(member, name, sent).await?;
    let status = answer.status();
    let mut back = Response::builder().status(status);
    if let Some(h) = back.headers_mut() {
        copy_end_to_end(answer.headers(), h);
    }
    let pipe = match (from_client, status == StatusCode::SWITCHING_PROTOCOLS) {
        (Some(from_client), true) => {
            if let Some(h) = back.headers_mut() {
                h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
                h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            }
            let from_owner = hyper::upgrade::on(&mut answer);
            Some(Box::pin(async move {
                let (Ok(client), Ok(owner)) = tokio::join!(from_client, from_owner) else {
                    return;
                };
                let (mut client, mut owner) = (TokioIo::new(client), TokioIo::new(owner));
                let _ = tokio::io::copy_bidirectional(&mut client, &mut owner).await;
            }) as Pipe)
        }
        _ => None,
    };
    let body = Relayed(answer.into_body()).boxed_unsync();
    let response = back.body(body).map_err(|_| Error::Internal)?;
    Ok((response, pipe))
}

/// Sends `req` to `member` (named `name` here) as it is, addressed to the
/// member; gives the head of the owner's answer, or why the member could
/// not be reached (it is then marked unreachable at once).
pub async fn send(
    member: &Remote,
    name: &str,
    mut req: Request<Outgoing>,
) -> Result<Response<Incoming>, Error> {
    if let Ok(host) = HeaderValue::from_str(&member.link.address().to_string()) {
        req.headers_mut().insert(header::HOST, host);
    }
    member.link.send(req).await.map_err(|why| {
        member.unreachable(why.clone());
        Error::HostUnreachable(name.to_string(), why)
    })
}

/// Whether the request asks to become a WebSocket.
fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Copies every header but those of the connection.
fn copy_end_to_end(from: &HeaderMap, to: &mut HeaderMap) {
    let named: Vec<String> = from
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|n| n.trim().to_ascii_lowercase()))
        .collect();
    for (name, value) in from {
        let hop = HOP_BY_HOP.contains(name)
            || name.as_str() == "keep-alive"
            || name.as_str() == "proxy-connection"
            || named.iter().any(|n| n == name.as_str());
        if !hop {
            to.append(name.clone(), value.clone());
        }
    }
}

/// The owner's answer body, passed on as it comes. If the owner's
/// connection breaks mid-body the answer ends there (a body with a length
/// then falls short, which the client sees).
struct Relayed(Incoming);

impl hyper::body::Body for Relayed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.0).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => {
                log::debug!(error = e.to_string().as_str(); "a forwarded answer broke off");
                Poll::Ready(None)
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_route_names_the_host_and_the_path_it_means_there() {
        let split = |p: &str| split(p);
        assert_eq!(
            split("/api/v1/hosts/edge-1/containers/abc/logs"),
            Some(("edge-1".into(), Some("/api/v1/containers/abc/logs".into())))
        );
        assert_eq!(
            split("/api/v1/hosts/vm~4qox"),
            Some(("vm~4qox".into(), None))
        );
        assert_eq!(
            split("/api/v1/hosts/vm%7E4qox/"),
            Some(("vm~4qox".into(), None))
        );
        assert_eq!(split("/api/v1/hosts/"), None);
        assert_eq!(split("/api/v1/hosts"), None);
        assert_eq!(split("/api/v1/containers/"), None);
    }

    #[test]
    fn the_connection_s_own_headers_stay_behind() {
        let mut from = HeaderMap::new();
        from.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        from.insert("x-secret-hop", HeaderValue::from_static("1"));
        from.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        from.insert(header::HOST, HeaderValue::from_static("front"));
        from.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        from.insert("sec-websocket-key", HeaderValue::from_static("k"));
        let mut to = HeaderMap::new();
        copy_end_to_end(&from, &mut to);
        let names: Vec<&str> = to.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["authorization", "sec-websocket-key"]);
    }
}
