//! Keep-alive connections between requests: pauses, pipelined requests,
//! request heads split across packets and upgrades on a reused connection
//! are all served, and a quiet connection is closed after the header-read
//! timeout.

use crate::util::*;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Long enough for a connection to go idle between writes.
const PAUSE: Duration = Duration::from_millis(300);

async fn send(s: &mut TcpStream, bytes: &str) {
    s.write_all(bytes.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_connection_is_served_again_after_every_pause() {
    let agent = Agent::start(&[]).await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    for _ in 0..5 {
        let r = guarded("a request after a pause", get_on(&mut s, "/api/v1/healthz")).await;
        assert_eq!(r.map(|r| r.status), Some(200));
        tokio::time::sleep(PAUSE).await;
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_even_when_one_is_cut_mid_head() {
    let agent = Agent::start(&[]).await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    send(
        &mut s,
        "GET /api/v1/healthz HTTP/1.1\r\nhost: a\r\n\r\nGET /api/v1/nowhere HTTP/1.1\r\nho",
    )
    .await;
    let first = guarded("the first answer", read_response(&mut s)).await;
    assert_eq!(first.map(|r| r.status), Some(200));
    tokio::time::sleep(PAUSE).await;
    send(&mut s, "st: a\r\n\r\n").await;
    let second = guarded("the second answer", read_response(&mut s)).await;
    assert_eq!(second.map(|r| r.status), Some(404));
    let third = guarded("the third answer", get_on(&mut s, "/api/v1/healthz")).await;
    assert_eq!(third.map(|r| r.status), Some(200));
}

#[tokio::test]
async fn a_request_head_in_pieces_is_answered_on_a_fresh_and_a_reused_connection() {
    let agent = Agent::start(&[]).await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    for _ in 0..2 {
        send(&mut s, "GET /api/v1/hea").await;
        tokio::time::sleep(PAUSE).await;
        send(&mut s, "lthz HTTP/1.1\r\nhost").await;
        tokio::time::sleep(PAUSE).await;
        send(&mut s, ": a\r\n\r\n").await;
        let r = guarded("the answer", read_response(&mut s)).await;
        assert_eq!(r.map(|r| r.status), Some(200));
        tokio::time::sleep(PAUSE).await;
    }
}

#[tokio::test]
async fn a_quiet_keep_alive_connection_is_closed_after_the_header_timeout() {
    let agent = Agent::start(&[("HEADER_READ_TIMEOUT", "1")]).await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    let r = guarded("the answer", get_on(&mut s, "/api/v1/healthz")).await;
    assert_eq!(r.map(|r| r.status), Some(200));
    assert!(
        closed_by_peer(&mut s).await,
        "a quiet connection stays open"
    );
}

#[tokio::test]
async fn a_reused_connection_upgrades_to_a_websocket_stream() {
    let agent = Agent::start(&[]).await;
    let ticker = Container::run(&[], &["every:100"]);
    let token = agent.token().await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    let r = guarded("a first request", get_on(&mut s, "/api/v1/healthz")).await;
    assert_eq!(r.map(|r| r.status), Some(200));
    tokio::time::sleep(PAUSE).await;
    let upgrade = format!(
        "GET /api/v1/logs/ws/{}?token={token}&tail=all HTTP/1.1\r\nhost: a\r\n\
         connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        ticker.id
    );
    send(&mut s, &upgrade).await;
    let head = guarded("the 101", read_head(&mut s)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut ws = WebSocketStream::from_raw_socket(s, Role::Client, None).await;
    for _ in 0..3 {
        let msg = guarded("a log line", ws.next()).await.unwrap().unwrap();
        assert!(msg.to_text().unwrap().contains("tick"), "{msg}");
    }
}

/// Reads up to the end of a response head, byte by byte so nothing after
/// it is consumed.
async fn read_head(s: &mut TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(s.read_u8().await.unwrap());
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test]
async fn a_body_the_agent_did_not_read_is_never_answered_as_a_request() {
    let agent = Agent::start(&[]).await;
    let mut s = TcpStream::connect(agent.addr).await.unwrap();
    let smuggled = "GET /api/v1/nowhere HTTP/1.1\r\nhost: a\r\n\r\n";
    let post = format!(
        "POST /api/v1/containers/x/start HTTP/1.1\r\nhost: a\r\ncontent-length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    send(&mut s, &post).await;
    let refused = guarded("the refusal", read_response(&mut s)).await;
    assert_eq!(refused.map(|r| r.status), Some(401), "refused unread");
    tokio::time::sleep(PAUSE).await;
    let next = guarded("the next answer", get_on(&mut s, "/api/v1/healthz")).await;
    assert_eq!(
        next.map(|r| r.status),
        Some(200),
        "not the smuggled request's 404"
    );
}
