//! Memory bounded by what is sent, whatever clients do: answers nobody
//! reads keep their read turn, so only a fixed number of large log bodies
//! exist at once, and a legacy SSE session whose stream is not read is cut
//! off at its byte limit instead of queueing answers without end.

use crate::util::*;
use docker_agent::mcp::sse::QUEUE_BYTES;
use docker_agent::service::logs::CONCURRENT_READS;
use hyper::Method;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection with a tiny receive window that sends `request` and reads
/// only the first `want` bytes of the answer: a client that stops reading.
async fn stalled(agent: &Agent, request: &str, want: &[u8]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(agent.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; want.len()];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&head),
        String::from_utf8_lossy(want)
    );
    stream
}

fn get(path: &str, auth: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\r\n")
}

/// Waits until the container's last log line starts with `last`.
pub async fn wait_for_log(agent: &Agent, id: &str, last: &str) {
    let token = agent.token().await;
    for _ in 0..100 {
        let resp = agent
            .get(
                &format!("/api/v1/containers/{id}/logs?tail=1"),
                Some(&token),
            )
            .await;
        if resp.json()["logs"].as_str().unwrap().starts_with(last) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the container never logged {last:?}");
}

#[tokio::test]
async fn log_answers_nobody_reads_keep_their_read_turn() {
    // About 7 MB of logs: more than the kernel buffers of a stalled socket take.
    let c = Container::run(&[], &["wide:7000", "wait"]);
    // Keep-alive connections stay open through the slow set-up below, so
    // the client never reuses one the agent is just closing.
    let agent = Agent::start(&[
        ("RATE_LIMIT_ENABLED", "false"),
        ("DOCKER_TIMEOUT", "10"),
        ("HEADER_READ_TIMEOUT", "120"),
    ])
    .await;
    let token = agent.token().await;
    wait_for_log(&agent, &c.id, "line 7000 ").await;
    let path = format!("/api/v1/containers/{}/logs?tail=10000", c.id);
    let auth = format!("Bearer {token}");
    let mut readers = Vec::new();
    for _ in 0..CONCURRENT_READS {
        readers.push(stalled(&agent, &get(&path, &auth), b"HTTP/1.1 200").await);
    }

    let refused = agent.get(&path, Some(&token)).await;
    assert_eq!(
        refused.status, 503,
        "every turn is held by an unread answer, so no further body is built"
    );
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("Too many log reads")
    );

    drop(readers.pop());
    let small = format!("/api/v1/containers/{}/logs?tail=1", c.id);
    let served = agent.get(&small, Some(&token)).await;
    assert_eq!(
        served.status, 200,
        "a client that goes away gives its turn back"
    );
}

#[tokio::test]
async fn an_sse_session_whose_stream_is_not_read_is_cut_off_at_its_byte_limit() {
    // Each answer is as large as an answer may be (logs fitted to 1 MiB).
    let c = Container::run(&[], &["wide:3000", "wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    wait_for_log(&agent, &c.id, "line 3000 ").await;
    let auth = format!("Bearer {MCP_KEY}");
    let open = format!(
        "GET /mcp/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    );
    let mut stream = stalled(&agent, &open, b"HTTP/1.1 200").await;
    let mut head = Vec::new();
    while !String::from_utf8_lossy(&head).contains("session_id=") || !head.ends_with(b"\n\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let id = head.split("session_id=").nth(1).unwrap().trim();
    let endpoint = format!("/mcp/messages/?session_id={id}");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_container_logs", "arguments": {"container_id": c.id, "tail": 10000, "max_bytes": 8_388_608}}}).to_string();

    // Kernel buffers take a few MiB before the queue starts to fill.
    let (mut accepted, mut cut_off) = (0, false);
    while accepted < 40 {
        let resp = agent
            .request(
                Method::POST,
                &endpoint,
                &[("authorization", &auth)],
                call.as_bytes(),
            )
            .await;
        match resp.status {
            202 => accepted += 1,
            429 => tokio::time::sleep(Duration::from_millis(50)).await,
            404 => {
                cut_off = true;
                break;
            }
            other => panic!("unexpected {other}: {:?}", resp.body),
        }
    }
    assert!(
        cut_off,
        "after {accepted} answers of about 1 MiB the session still takes more (limit {QUEUE_BYTES} bytes queued)"
    );

    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut rest))
        .await
        .expect("the stream ends")
        .unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains("event: error\ndata: session ended"),
        "the client is told why its stream ended"
    );
}
