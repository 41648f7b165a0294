//! Raw HTTP/1.1 on a TCP socket, for tests about what goes over the wire
//! (keep-alive, pipelining, closes), and a hang guard for their waits.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single wait may last before the test calls it a hang.
pub const GUARD: Duration = Duration::from_secs(30);

pub async fn guarded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, fut)
        .await
        .unwrap_or_else(|_| panic!("no progress: {what}"))
}

/// A response read off a raw connection.
pub struct Raw {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response with a `content-length` body; `None` if the
/// connection ends first.
pub async fn read_response(s: &mut TcpStream) -> Option<Raw> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut raw = Raw {
                status: head.get(9..12)?.parse().ok()?,
                head,
                body: String::new(),
            };
            let len: usize = raw.header("content-length")?.parse().ok()?;
            if buf.len() >= end + 4 + len {
                raw.body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                return Some(raw);
            }
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `GET path` on an open keep-alive connection.
pub async fn get_on(s: &mut TcpStream, path: &str) -> Option<Raw> {
    send_on(s, "GET", path, None).await
}

/// `method path` with no body, and `Authorization: Bearer token` if given,
/// on an open keep-alive connection.
pub async fn send_on(
    s: &mut TcpStream,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> Option<Raw> {
    let auth = token.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
    let req = format!("{method} {path} HTTP/1.1\r\nhost: agent\r\n{auth}content-length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    read_response(s).await
}

/// Whether the peer has closed `s` (reads to the end, discarding).
pub async fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    guarded("waiting for the close", s.read_to_end(&mut sink))
        .await
        .is_ok_and(|_| sink.is_empty())
}
