//! Sending one case and collecting everything the agent sends back: raw
//! bytes over a fresh TCP connection (all at once or trickled), or a
//! WebSocket handshake followed by one raw client frame and a ping. Nothing
//! here measures time: the driver bounds each exchange with its hang guard,
//! and every exchange ends only when the agent ends it (or, on a stream that
//! stays open, when the ping is answered).

use super::cases::Send;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

/// Bytes per piece, and the pause between pieces, of a trickled request.
const TRICKLE_PIECE: usize = 8;
const TRICKLE_PAUSE: Duration = Duration::from_millis(100);
/// The payload of the ping that asks whether a stream is still open.
const PING: &[u8] = b"still there?";

/// One HTTP answer read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything that came back for one case.
#[derive(Debug, Default)]
pub struct Outcome {
    /// HTTP answers in order (a refused WebSocket handshake is one).
    pub answers: Vec<Answer>,
    /// The WebSocket close frame received, if any.
    pub close: Option<(u16, String)>,
    /// Whether the ping sent after the case's frame was answered.
    pub pong: bool,
    /// Every byte received, or for a WebSocket every payload and close reason.
    pub bytes: Vec<u8>,
}

/// Sends `send` from a fresh connection bound to loopback address `source`.
pub async fn exchange(agent: SocketAddr, source: &str, send: &Send) -> Outcome {
    let stream = crate::util::connect_from(source, agent).await;
    match send {
        Send::Bytes(bytes) => raw(stream, bytes.clone(), Vec::new()).await,
        Send::Trickle { first, then } => raw(stream, first.clone(), then.clone()).await,
        Send::Ws {
            path,
            headers,
            frame,
        } => websocket(stream, agent, path, headers, frame.as_deref()).await,
    }
}

/// Writes `first` at once and `then` in paced pieces, never closing the
/// write side, and reads until the agent closes the connection.
async fn raw(stream: TcpStream, first: Vec<u8>, then: Vec<u8>) -> Outcome {
    let (mut rd, mut wr) = stream.into_split();
    // The agent may stop reading part-way and close: write errors are expected.
    let writer = tokio::spawn(async move {
        if wr.write_all(&first).await.is_ok() {
            for piece in then.chunks(TRICKLE_PIECE) {
                tokio::time::sleep(TRICKLE_PAUSE).await;
                if wr.write_all(piece).await.is_err() {
                    break;
                }
            }
        }
        wr
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    // Until the end of the stream, or a reset (when the agent closed with
    // bytes of ours still unread).
    while let Ok(n @ 1..) = rd.read(&mut buf).await {
        got.extend_from_slice(&buf[..n]);
    }
    drop(writer.await);
    Outcome {
        answers: answers(&got),
        bytes: got,
        ..Outcome::default()
    }
}

/// Splits what came back into HTTP answers (bodies framed by
/// `content-length`; whatever follows a head without one is its body).
fn answers(mut bytes: &[u8]) -> Vec<Answer> {
    let mut found = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]);
        let rest = &bytes[end + 4..];
        let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(rest.len())
            .min(rest.len());
        found.push(Answer {
            status,
            headers,
            body: rest[..len].to_vec(),
        });
        bytes = &rest[len..];
    }
    found
}

/// A WebSocket handshake on `path`; then `frame` written raw, then a ping;
/// reads until the agent closes, or until the ping is answered.
async fn websocket(
    stream: TcpStream,
    agent: SocketAddr,
    path: &str,
    headers: &[(String, String)],
    frame: Option<&[u8]>,
) -> Outcome {
    let mut req = format!("ws://{agent}{path}").into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let mut ws = match tokio_tungstenite::client_async(req, stream).await {
        Ok((ws, _)) => ws,
        Err(WsError::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            let headers = resp.headers().iter().map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), value)
            });
            let answer = Answer {
                status: resp.status().as_u16(),
                headers: headers.collect(),
                body: body.clone(),
            };
            return Outcome {
                answers: vec![answer],
                bytes: body,
                ..Outcome::default()
            };
        }
        Err(_) => return Outcome::default(),
    };
    if let Some(frame) = frame {
        let _ = ws.get_mut().write_all(frame).await;
    }
    let _ = ws.send(Message::Ping(Bytes::from_static(PING))).await;
    let mut seen = Outcome::default();
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Pong(p) if p == PING => {
                seen.pong = true;
                let _ = ws.close(None).await;
                break;
            }
            Message::Close(frame) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                });
                seen.bytes.extend_from_slice(reason.as_bytes());
                seen.close = Some((code, reason));
            }
            other => seen.bytes.extend_from_slice(&other.into_data()),
        }
    }
    seen
}

/// A masked client frame: `opcode`, FIN as given, with `payload`.
pub fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = frame_header(opcode, fin, true, payload.len() as u64);
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    f
}

/// A frame header alone: the length as declared, masked or not (a mask
/// key, if any, is the caller's to append).
pub fn frame_header(opcode: u8, fin: bool, masked: bool, len: u64) -> Vec<u8> {
    let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match len {
        0..=125 => f.push(mask_bit | len as u8),
        126..=0xffff => {
            f.push(mask_bit | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(mask_bit | 127);
            f.extend_from_slice(&len.to_be_bytes());
        }
    }
    f
}
