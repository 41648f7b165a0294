//! Response bodies and the helpers that build every response: JSON with a
//! status, the JSON error (with `WWW-Authenticate`, `Retry-After` or `Allow`
//! as the error calls for), and a size-capped request body reader.

use crate::error::Error;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;

/// The body type of every response (buffered or streaming).
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

pub fn empty() -> Body {
    full(Bytes::new())
}

/// A JSON response with `status`.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(value)
        .unwrap_or_else(|_| br#"{"detail":"Internal server error"}"#.to_vec());
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `200 OK` with a JSON body.
pub fn ok<T: Serialize + ?Sized>(value: &T) -> Response<Body> {
    json(StatusCode::OK, value)
}

/// The JSON error response for `err`.
pub fn error(err: &Error) -> Response<Body> {
    error_with(err, &err.body())
}

/// The error response for `err` with `body` in place of its own (a detail
/// that only the caller can fill in).
pub fn error_with(err: &Error, body: &serde_json::Value) -> Response<Body> {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, body);
    let headers = resp.headers_mut();
    if let Some(secs) = err.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    match err {
        Error::Unauthorized(_) => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Error::MethodNotAllowed(allow) => {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        Error::UpgradeRequired => {
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        _ => {}
    }
    resp
}

/// Reads a whole request of at most `limit` body bytes within `deadline`:
/// larger is 413, slower is 408 (a client trickling a body cannot hold a
/// connection slot forever).
pub async fn read_request(
    req: Request<Incoming>,
    limit: usize,
    deadline: Duration,
) -> Result<(Parts, Bytes), Error> {
    let declared: Option<u64> = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Error::PayloadTooLarge(limit));
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, limit).collect();
    match tokio::time::timeout(deadline, read).await {
        Err(_) => Err(Error::RequestTimeout),
        Ok(Ok(collected)) => Ok((parts, collected.to_bytes())),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Error::PayloadTooLarge(limit))
        }
        Ok(Err(_)) => Err(Error::BadRequest("Could not read the request body".into())),
    }
}
