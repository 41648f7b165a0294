//! Response bodies and the helpers that build every response: JSON with a
//! status, the JSON error (with `WWW-Authenticate`, `Retry-After` or `Allow`
//! as the error calls for), and a size-capped request body reader.
//!
//! Large answers are bounded by their *encoded* size: [`escaped_len`] says
//! what a character costs inside a JSON string (escaped once or more) and
//! [`encoded_len`] what a value costs, counted without building it. A large
//! body can also hold a guard (a read turn) until it has been written, with
//! [`json_held`], so clients that never read cannot pile bodies up.

use crate::error::Error;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
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
    json_response(status, full(bytes))
}

/// A response with `status` whose `body` is JSON already.
pub fn json_response(status: StatusCode, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Bytes `c` takes in JSON output when escaped `times` times over: once as
/// a character of a JSON string, twice inside a string that holds that
/// string's JSON, and so on. Quotes and backslashes double their backslash
/// at each level, control characters become `\n`-style or `\u00XX`
/// escapes, and everything else (non-ASCII included) passes through as UTF-8.
pub fn escaped_len(c: char, times: u32) -> usize {
    if times == 0 {
        return c.len_utf8();
    }
    let backslashes = 1 << (times - 1);
    match c {
        '"' | '\\' => backslashes + escaped_len(c, times - 1),
        '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => backslashes + 1,
        c if c < ' ' => backslashes + "u00XX".len(),
        c => c.len_utf8(),
    }
}

/// Bytes `value` takes as compact JSON, counted without building it.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Only maps with non-string keys fail, and the models have none.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Size of the pieces a held body is cut into. Hyper asks for the next
/// piece only once its write buffer is nearly empty, so a body that is not
/// being read stays here, in pieces, rather than in one big buffer.
const PIECE: usize = 64 * 1024;

/// JSON serialised straight into [`PIECE`]-sized buffers.
#[derive(Default)]
struct Pieces {
    done: VecDeque<Bytes>,
    current: Vec<u8>,
}

impl std::io::Write for Pieces {
    fn write(&mut self, mut bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len();
        while !bytes.is_empty() {
            let room = PIECE - self.current.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.current.extend_from_slice(now);
            if self.current.len() == PIECE {
                let piece = std::mem::replace(&mut self.current, Vec::with_capacity(PIECE));
                self.done.push_back(Bytes::from(piece));
            }
            bytes = rest;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A body that keeps `guard` until hyper has taken its last piece (so at
/// most its write buffer is left to send) or dropped it (client gone).
struct Guarded<G> {
    pieces: VecDeque<Bytes>,
    left: u64,
    guard: Option<G>,
}

impl<G: Unpin> hyper::body::Body for Guarded<G> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        Poll::Ready(match this.pieces.pop_front() {
            Some(piece) => {
                this.left -= piece.len() as u64;
                Some(Ok(Frame::data(piece)))
            }
            None => {
                this.guard = None;
                None
            }
        })
    }

    /// Never ends early: hyper would drop the body, and the guard with it,
    /// while the last piece still waits to be written.
    fn is_end_stream(&self) -> bool {
        self.guard.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// A JSON response with `status` whose body keeps `guard` until it has been
/// written or the client has gone (see [`Guarded`]).
pub fn json_held<T, G>(status: StatusCode, value: &T, guard: G) -> Response<Body>
where
    T: Serialize + ?Sized,
    G: Send + Unpin + 'static,
{
    let mut pieces = Pieces::default();
    if serde_json::to_writer(&mut pieces, value).is_err() {
        return error(&Error::Internal);
    }
    pieces.done.push_back(Bytes::from(pieces.current));
    let held = Guarded {
        left: pieces.done.iter().map(|p| p.len() as u64).sum(),
        pieces: pieces.done,
        guard: Some(guard),
    };
    json_response(status, held.boxed_unsync())
}

/// `200 OK` with `text` of the media type `content_type`.
pub fn text(content_type: &'static str, text: String) -> Response<Body> {
    let mut resp = Response::new(full(text));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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

/// A request body that must be a JSON object, or the 422 FastAPI gives
/// for it: `missing`, `json_invalid` (with the column) or
/// `model_attributes_type`.
pub fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    use crate::error::FieldError;
    use serde_json::{Value, json};
    let fail = |kind, loc: Vec<Value>, msg: &str| {
        Err(Error::Validation(vec![FieldError::new(loc, kind, msg)]))
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return fail("missing", vec![json!("body")], "Field required");
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => fail(
            "model_attributes_type",
            vec![json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
        ),
        Err(e) => fail(
            "json_invalid",
            vec![json!("body"), json!(e.column())],
            "JSON decode error",
        ),
    }
}

/// Reads a request body that must be a JSON object ([`json_object`]), of
/// at most [`MAX_REQUEST_BODY`] bytes within `deadline`.
pub async fn read_object(
    req: Request<Incoming>,
    deadline: Duration,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let (_, bytes) = read_request(req, MAX_REQUEST_BODY, deadline).await?;
    json_object(&bytes)
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Body as _;
    use serde_json::json;
    use std::sync::Arc;

    fn samples() -> Vec<String> {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        vec![
            "plain text".into(),
            "\u{1}\u{2}\u{1b}[31mred\u{1b}[0m\u{1f}\u{7f}".into(),
            r#""quoted" \ back\slash \" \\"#.into(),
            "tabs\tand\nnew\r\nlines \u{8}\u{c}".into(),
            "emoji 🐳, accents é, marks ✓, wide 世界, \u{feff}".into(),
            every_ascii,
        ]
    }

    #[test]
    fn escaped_len_matches_serde_json_once_and_twice() {
        for s in samples() {
            let once: usize = s.chars().map(|c| escaped_len(c, 1)).sum();
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json.len(), once + 2, "{s:?}");
            let twice: usize = s.chars().map(|c| escaped_len(c, 2)).sum();
            let nested = serde_json::to_string(&json).unwrap();
            // Outer quotes, plus the inner quotes escaped as \".
            assert_eq!(nested.len(), twice + 2 + 4, "{s:?}");
            let unescaped: usize = s.chars().map(|c| escaped_len(c, 0)).sum();
            assert_eq!(unescaped, s.len());
        }
    }

    #[test]
    fn encoded_len_counts_what_serialising_writes() {
        for s in samples() {
            let v = json!({"text": s, "list": [1, null, true, 2.5], "nested": {"s": [s]}});
            assert_eq!(encoded_len(&v), serde_json::to_vec(&v).unwrap().len());
        }
    }

    #[tokio::test]
    async fn a_held_body_keeps_its_guard_until_its_last_piece_is_taken() {
        let guard = Arc::new(());
        let big = "x\u{1}".repeat(2 * PIECE);
        let resp = json_held(StatusCode::OK, &big, guard.clone());
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        let mut body = resp.into_body();
        let expected = serde_json::to_vec(&big).unwrap();
        assert_eq!(body.size_hint().exact(), Some(expected.len() as u64));
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            assert_eq!(Arc::strong_count(&guard), 2, "held while pieces remain");
            let piece = frame.unwrap().into_data().unwrap();
            assert!(piece.len() <= PIECE);
            got.extend_from_slice(&piece);
        }
        assert_eq!(Arc::strong_count(&guard), 1, "released at the end");
        assert_eq!(got, expected);
        assert!(expected.len() > 4 * PIECE, "the body came in pieces");

        let unread = json_held(StatusCode::OK, &big, guard.clone());
        assert_eq!(Arc::strong_count(&guard), 2);
        drop(unread);
        assert_eq!(Arc::strong_count(&guard), 1, "released when dropped unread");
    }
}
