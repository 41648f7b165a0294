//! A WebSocket client for the stream routes.

use super::*;

/// A WebSocket client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a WebSocket conversation ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// A close frame: code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Dropped,
    /// Nothing arrived for the whole wait.
    Silent,
}

impl Agent {
    /// Opens a WebSocket to `path` (query included), with extra request headers.
    pub async fn ws_with(&self, path: &str, headers: &[(&str, &str)]) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let (ws, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket handshake");
        assert_eq!(resp.status(), 101);
        ws
    }

    /// Opens a WebSocket to `path` from the loopback address `source`.
    pub async fn ws_from(&self, source: &str, path: &str) -> Ws {
        let stream = connect_from(source, self.addr).await;
        let url = format!("ws://{}{path}", self.addr);
        let plain = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (ws, resp) = tokio_tungstenite::client_async(url, plain)
            .await
            .expect("websocket handshake");
        assert_eq!(resp.status(), 101);
        ws
    }

    pub async fn ws(&self, path: &str) -> Ws {
        self.ws_with(path, &[]).await
    }
}

/// The next text message within `wait`, skipping control frames; `Err` says how the stream ended.
pub async fn next_text(ws: &mut Ws, wait: std::time::Duration) -> Result<String, Ending> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return Err(Ending::Dropped),
                Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Err(Ending::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
            }
        }
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Err(Ending::Silent))
}

/// Every text message until the stream ends (each wait bounded by `wait`).
pub async fn read_all(ws: &mut Ws, wait: std::time::Duration) -> (Vec<String>, Ending) {
    let mut got = Vec::new();
    loop {
        match next_text(ws, wait).await {
            Ok(t) => got.push(t),
            Err(end) => return (got, end),
        }
    }
}
