//! WebSocket streams against real containers: exact log lines, stats
//! samples, events, sharing one upstream, backpressure, auth and shutdown.

use crate::util::*;
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn ws_path(kind: &str, id: &str, token: &str, extra: &str) -> String {
    format!("/api/v1/{kind}/ws/{id}?token={token}{extra}")
}

#[tokio::test]
async fn log_stream_delivers_every_line_exactly_then_closes_normally() {
    let c = Container::run(
        &[],
        &[
            "sleep:300",
            "out:first line",
            "sleep:50",
            "err:on stderr ✓ ünïcödé",
            "sleep:50",
            "big:102400",
            "sleep:50",
            "raw:partial-",
            "sleep:200",
            "out:joined",
            "sleep:50",
            "out:crlf\r",
            "sleep:50",
            "badutf8",
            "sleep:300",
        ],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent.ws(&ws_path("logs", &c.name, &token, "")).await;
    let (lines, end) = read_all(&mut ws, WAIT).await;
    let expected = vec![
        "first line".to_string(),
        "on stderr ✓ ünïcödé".into(),
        "x".repeat(102_400),
        "partial-joined".into(),
        "crlf".into(),
        "bad \u{fffd}\u{fffd} bytes".into(),
    ];
    assert_eq!(
        lines.len(),
        expected.len(),
        "{:?}",
        lines
            .iter()
            .map(|l| l.chars().take(40).collect::<String>())
            .collect::<Vec<_>>()
    );
    assert_eq!(lines, expected);
    assert_eq!(end, Ending::Closed(1000, "Container stopped".into()));
}

#[tokio::test]
async fn log_stream_options_tail_stream_and_timestamps() {
    let c = Container::run(
        &[],
        &[
            "big:40000",
            "sleep:50",
            "lines:10",
            "sleep:50",
            "err:problem",
            "wait",
        ],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Docker applies `tail` to both streams' entries, then filters by stream.
    let mut ws = agent
        .ws(&ws_path("logs", &c.id, &token, "&tail=3&stream=stdout"))
        .await;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(next_text(&mut ws, WAIT).await.unwrap());
    }
    assert_eq!(got, ["line 9", "line 10"]);
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(300)).await,
        Err(Ending::Silent)
    );

    let mut ws = agent
        .ws(&ws_path("logs", &c.id, &token, "&tail=2&stream=stderr"))
        .await;
    assert_eq!(next_text(&mut ws, WAIT).await.unwrap(), "problem");

    // Docker counts a 40 000-byte line as three 16 KiB entries, each with its own timestamp.
    let mut ws = agent
        .ws(&ws_path(
            "logs",
            &c.id,
            &token,
            "&tail=14&stream=stdout&timestamps=true",
        ))
        .await;
    let stamped = next_text(&mut ws, WAIT).await.unwrap();
    let (ts, rest) = stamped.split_once(' ').unwrap();
    assert!(docker_agent::clock::parse_rfc3339(ts).is_some(), "{ts}");
    assert_eq!(
        rest,
        "x".repeat(40_000),
        "one timestamp for the whole joined line"
    );
    let next = next_text(&mut ws, WAIT).await.unwrap();
    assert!(next.ends_with(" line 1"), "{next}");

    // `since` in the future: no history, only what comes next.
    let later = format!("&since={}", now() + 3600);
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, &later)).await;
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500)).await,
        Err(Ending::Silent)
    );
    let earlier = "&since=1970-01-02T00:00:00Z&tail=1&stream=stderr";
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, earlier)).await;
    assert_eq!(next_text(&mut ws, WAIT).await.unwrap(), "problem");
}

#[tokio::test]
async fn tty_log_stream_strips_carriage_returns() {
    let c = Container::run(&["-t"], &["out:on a terminal", "sleep:300"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, "")).await;
    let (lines, end) = read_all(&mut ws, WAIT).await;
    assert_eq!(lines, ["on a terminal"]);
    assert_eq!(end, Ending::Closed(1000, "Container stopped".into()));
}

#[tokio::test]
async fn stats_stream_sends_samples_with_every_field_then_closes_on_stop() {
    let c = Container::run(&["--memory", "48m"], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent.ws(&ws_path("stats", &c.name, &token, "")).await;
    for _ in 0..2 {
        let sample: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
        for key in [
            "cpu_percent",
            "memory_usage",
            "memory_percent",
            "timestamp",
            "memory_limit",
            "network_rx",
            "network_tx",
            "block_read",
            "block_write",
            "pids",
        ] {
            assert!(!sample[key].is_null(), "{key} in {sample}");
        }
        assert_eq!(sample["memory_limit"], 48 * 1024 * 1024);
        assert_eq!(sample["pids"], 1);
        assert!(
            docker_agent::clock::parse_rfc3339(sample["timestamp"].as_str().unwrap()).is_some()
        );
    }
    docker(&["stop", "-t", "1", &c.id]);
    let (_, end) = read_all(&mut ws, WAIT).await;
    assert_eq!(end, Ending::Closed(1000, "Container stopped".into()));
}

#[tokio::test]
async fn events_stream_reports_start_and_stop_with_filters() {
    let c = Container::create(&[], &["wait"]);
    let other = Container::create(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let filter = format!("&type=container&event=start,stop&container={}", c.name);
    let mut ws = agent
        .ws(&format!("/api/v1/events/ws?token={token}{filter}"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    docker(&["start", &other.id]);
    docker(&["start", &c.id]);
    docker(&["stop", "-t", "1", &c.id]);
    let mut actions = Vec::new();
    while actions.len() < 2 {
        let event: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
        assert_eq!(event["id"], c.id, "filtered to the one container: {event}");
        assert_eq!(event["Type"], "container");
        actions.push(event["Action"].as_str().unwrap().to_string());
    }
    assert_eq!(actions, ["start", "stop"]);
}

#[tokio::test]
async fn events_subscribers_are_told_about_a_daemon_restart_and_the_stream_resumes() {
    let c = Container::create(&[], &["wait"]);
    let path = temp_socket("events");
    let mut proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&container={}",
            c.id
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    proxy.stop().await;
    let notice: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
    assert_eq!(
        (notice["Type"].as_str(), notice["Action"].as_str()),
        (Some("agent"), Some("docker-disconnected"))
    );

    // No event was delivered yet: one during the outage is still not lost.
    docker(&["start", &c.id]);
    let _proxy = DaemonProxy::start(&path);
    let back: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
    assert_eq!(back["Action"], "docker-reconnected");
    let event: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
    assert_eq!(
        (&event["Action"], &event["id"]),
        (&"start".into(), &c.id.clone().into())
    );
    docker(&["stop", "-t", "1", &c.id]);
    let mut after = Vec::new();
    while after.last() != Some(&"stop".to_string()) {
        let event: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
        after.push(event["Action"].as_str().unwrap().to_string());
    }
    assert!(
        !after.contains(&"start".to_string()),
        "no repeat: {after:?}"
    );
}

#[tokio::test]
async fn fifty_subscribers_share_one_upstream_and_see_the_same_lines() {
    let c = Container::run(&[], &["every:40"]);
    let path = temp_socket("share");
    let proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host), ("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    let url = ws_path("logs", &c.id, &token, "&tail=1000");
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(agent.ws(&url).await);
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    docker(&["stop", "-t", "1", &c.id]);
    let readers = clients
        .into_iter()
        .map(|mut ws| tokio::spawn(async move { read_all(&mut ws, WAIT).await }));
    let mut seen = Vec::new();
    for r in readers {
        let (lines, end) = r.await.unwrap();
        assert_eq!(end, Ending::Closed(1000, "Container stopped".into()));
        seen.push(lines);
    }
    let first = &seen[0];
    assert!(first.len() >= 5, "{first:?}");
    let expected: Vec<String> = (1..=first.len()).map(|i| format!("tick {i}")).collect();
    assert_eq!(first, &expected, "contiguous, from the first line");
    assert!(
        seen.iter().all(|s| s == first),
        "every subscriber saw the same lines"
    );
    let follows = proxy
        .request_lines()
        .iter()
        .filter(|l| l.contains("/logs?") && l.contains("follow=1"))
        .count();
    assert_eq!(
        follows, 1,
        "one upstream Docker stream for fifty subscribers"
    );
}

#[tokio::test]
async fn a_stalled_client_does_not_slow_a_fast_one_and_loses_nothing() {
    let c = Container::run(&[], &["sleep:2500", "wide:20000", "wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let url = ws_path("logs", &c.id, &token, "&tail=0");
    let mut stalled = agent.ws(&url).await;
    let mut fast = agent.ws(&url).await;
    let wide = |i: usize, line: &str| {
        assert!(
            line.starts_with(&format!("line {i} ")) && line.len() == 1023,
            "line {i}: {}",
            &line[..20.min(line.len())]
        )
    };
    for i in 1..=20_000 {
        wide(i, &next_text(&mut fast, WAIT).await.unwrap());
    }
    // The stalled client read nothing meanwhile; now it gets every line, in order.
    for i in 1..=20_000 {
        wide(i, &next_text(&mut stalled, WAIT).await.unwrap());
    }
    assert_eq!(
        next_text(&mut stalled, Duration::from_millis(300)).await,
        Err(Ending::Silent),
        "nothing more, and not cut off"
    );
}

#[tokio::test]
async fn bad_or_missing_tokens_close_with_1008() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let expired = oracle_token(
        jsonwebtoken::Algorithm::HS256,
        &serde_json::json!({"sub": "admin", "exp": now() - 5}),
        SECRET.as_bytes(),
    );
    for (path, reason) in [
        (format!("/api/v1/logs/ws/{}", c.id), "Not authenticated"),
        (
            format!("/api/v1/logs/ws/{}?token=garbage", c.id),
            "Invalid or expired token",
        ),
        (
            format!("/api/v1/stats/ws/{}?token={expired}", c.id),
            "Invalid or expired token",
        ),
        ("/api/v1/events/ws?token=".to_string(), "Not authenticated"),
    ] {
        let mut ws = agent.ws(&path).await;
        assert_eq!(
            next_text(&mut ws, WAIT).await,
            Err(Ending::Closed(1008, reason.into())),
            "{path}"
        );
    }
    let token = agent.token().await;
    let mut ws = agent
        .ws_with(
            &format!("/api/v1/logs/ws/{}", c.id),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500)).await,
        Err(Ending::Silent),
        "bearer header accepted"
    );
}

#[tokio::test]
async fn unknown_containers_and_bad_options_close_with_a_reason() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws(&ws_path("logs", "no-such-thing", &token, ""))
        .await;
    assert_eq!(
        next_text(&mut ws, WAIT).await,
        Err(Ending::Closed(
            4404,
            "Container 'no-such-thing' not found".into()
        ))
    );
    let mut ws = agent
        .ws(&ws_path("stats", "..%2F..%2Finfo", &token, ""))
        .await;
    assert!(matches!(
        next_text(&mut ws, WAIT).await,
        Err(Ending::Closed(4404, _))
    ));
    let c = Container::run(&[], &["wait"]);
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, "&tail=-3")).await;
    let Err(Ending::Closed(code, reason)) = next_text(&mut ws, WAIT).await else {
        panic!("expected a close")
    };
    assert_eq!(code, 1008);
    assert!(reason.contains("greater than or equal to 0"), "{reason}");
    let mut ws = agent
        .ws(&ws_path("logs", &c.id, &token, "&stream=stdin"))
        .await;
    let Err(Ending::Closed(code, reason)) = next_text(&mut ws, WAIT).await else {
        panic!("expected a close")
    };
    assert_eq!(code, 1008);
    assert!(
        reason.contains("'all', 'both', 'stdout' or 'stderr'"),
        "{reason}"
    );
}

/// The lines of `GET /containers/{id}/logs?{query}`, or its status and body.
async fn rest_lines(
    agent: &Agent,
    token: &str,
    id: &str,
    query: &str,
) -> Result<Vec<String>, Resp> {
    let resp = agent
        .get(
            &format!("/api/v1/containers/{id}/logs?{query}"),
            Some(token),
        )
        .await;
    if resp.status != 200 {
        return Err(resp);
    }
    let body = resp.json();
    let lines: Vec<String> = body["logs"]
        .as_str()
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    if query.to_ascii_lowercase().contains("tail=all") {
        assert_eq!(
            body["tail"],
            lines.len(),
            "{query}: tail=all counts the lines it answers"
        );
    }
    Ok(lines)
}

#[tokio::test]
async fn log_parameters_mean_the_same_on_rest_and_on_the_stream() {
    let c = Container::run(
        &[],
        &[
            "out:one",
            "sleep:50",
            "err:two",
            "sleep:50",
            "out:three",
            "wait",
        ],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    for _ in 0..100 {
        if rest_lines(&agent, &token, &c.id, "").await.unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (after, future) = (now() + 1, now() + 3600);
    let every = || Some(vec!["one", "two", "three"]);
    let cases: Vec<(String, Option<Vec<&str>>)> = vec![
        (String::new(), every()),
        ("tail=all".into(), every()),
        ("tail=ALL".into(), every()),
        ("tail=0".into(), Some(vec![])),
        ("tail=2".into(), Some(vec!["two", "three"])),
        ("tail=10000".into(), every()),
        ("stream=both".into(), every()),
        ("stream=all".into(), every()),
        ("stream=stdout".into(), Some(vec!["one", "three"])),
        ("stream=STDERR".into(), Some(vec!["two"])),
        ("tail=all&stream=stderr".into(), Some(vec!["two"])),
        ("timestamps=0".into(), every()),
        ("since=0".into(), every()),
        (
            "since=1970-01-02T00:00:00Z&tail=1".into(),
            Some(vec!["three"]),
        ),
        (format!("since={future}"), Some(vec![])),
        ("until=1970-01-02T00:00:00Z".into(), Some(vec![])),
        (
            format!("until={after}&stream=stdout"),
            Some(vec!["one", "three"]),
        ),
        (format!("tail=all&until={after}"), every()),
        // Stamped lines: the same on both, each stamp as Docker wrote it.
        ("timestamps=true&tail=2".into(), None),
    ];
    for (query, expected) in cases {
        let lines = rest_lines(&agent, &token, &c.id, &query)
            .await
            .unwrap_or_else(|r| panic!("{query}: {} {:?}", r.status, r.body));
        match expected {
            Some(expected) => assert_eq!(lines, expected, "REST {query}"),
            None => {
                assert_eq!(lines.len(), 2, "{query}");
                assert!(lines[1].ends_with("Z three"), "{query}: {lines:?}");
            }
        }
        let mut ws = agent
            .ws(&ws_path("logs", &c.id, &token, &format!("&{query}")))
            .await;
        let mut streamed = Vec::new();
        for _ in &lines {
            streamed.push(
                next_text(&mut ws, WAIT)
                    .await
                    .unwrap_or_else(|e| panic!("{query}: {e:?}")),
            );
        }
        assert_eq!(
            streamed, lines,
            "the stream's history is REST's answer: {query}"
        );
        if query.contains("until") {
            assert_eq!(
                next_text(&mut ws, WAIT).await,
                Err(Ending::Closed(1000, "Reached 'until'".into())),
                "{query}"
            );
        } else {
            assert_eq!(
                next_text(&mut ws, Duration::from_millis(300)).await,
                Err(Ending::Silent),
                "{query}: still following"
            );
        }
    }
}

#[tokio::test]
async fn bad_log_parameters_are_refused_alike_on_rest_and_on_the_stream() {
    let c = Container::run(&[], &["out:one", "wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    for (query, field, kind) in [
        ("tail=-1", "tail", "greater_than_equal"),
        ("tail=10001", "tail", "less_than_equal"),
        ("tail=some", "tail", "int_parsing"),
        ("tail=1.5", "tail", "int_parsing"),
        ("stream=stdin", "stream", "enum"),
        ("stream=", "stream", "enum"),
        ("since=yesterday", "since", "datetime_parsing"),
        ("until=-5", "until", "datetime_parsing"),
        ("timestamps=sometimes", "timestamps", "bool_parsing"),
    ] {
        let resp = rest_lines(&agent, &token, &c.id, query).await.unwrap_err();
        assert_eq!(resp.status, 422, "{query}");
        let detail = resp.json()["detail"].clone();
        assert_eq!(detail.as_array().unwrap().len(), 1, "{query}: {detail}");
        assert_eq!(
            detail[0]["loc"],
            serde_json::json!(["query", field]),
            "{query}"
        );
        assert_eq!(detail[0]["type"], kind, "{query}");
        let msg = detail[0]["msg"].as_str().unwrap();
        let mut ws = agent
            .ws(&ws_path("logs", &c.id, &token, &format!("&{query}")))
            .await;
        assert_eq!(
            next_text(&mut ws, WAIT).await,
            Err(Ending::Closed(1008, format!("\"{field}\": {msg}"))),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_log_stream_past_until_ends_after_its_last_line_even_when_silent() {
    // Docker keeps a silent follow open past `until`: the agent ends it.
    let c = Container::run(&[], &["out:before", "wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let until = format!("&until={}", now() + 2);
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, &until)).await;
    assert_eq!(next_text(&mut ws, WAIT).await.unwrap(), "before");
    assert_eq!(
        next_text(&mut ws, WAIT).await,
        Err(Ending::Closed(1000, "Reached 'until'".into()))
    );
    assert_eq!(c.status(), "running");
}

#[tokio::test]
async fn plain_http_on_a_stream_route_is_426() {
    let agent = Agent::start(&[]).await;
    let resp = agent.get("/api/v1/events/ws", None).await;
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("upgrade"), Some("websocket"));
}

#[tokio::test]
async fn idle_peers_are_pinged_and_dead_ones_dropped() {
    let agent = Agent::start(&[("WS_PING_INTERVAL", "1")]).await;
    let token = agent.token().await;
    // A live client answers pings (tungstenite does so while reading) and stays connected.
    let quiet =
        format!("/api/v1/events/ws?token={token}&type=container&container=no-such-container-ever");
    let mut live = agent.ws(&quiet).await;
    assert_eq!(
        next_text(&mut live, Duration::from_millis(3500)).await,
        Err(Ending::Silent)
    );
    // A client that never reads never answers: it is dropped after three silent intervals.
    let mut dead = agent.ws(&quiet).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    use futures_util::StreamExt;
    let mut pings = 0;
    let ended = loop {
        match tokio::time::timeout(WAIT, dead.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) | Ok(None) => break true,
            Err(_) => break false,
        }
    };
    assert!(pings >= 1, "pings were sent");
    assert!(ended, "the silent peer was dropped");
}

#[tokio::test]
async fn shutdown_closes_streams_with_1001() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    // Filtered to nothing, so events of tests running alongside stay out.
    let quiet = "type=container&container=no-such-container-ever";
    let mut ws = agent
        .ws(&format!("/api/v1/events/ws?token={token}&{quiet}"))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shutdown = tokio::spawn(agent.shutdown());
    assert_eq!(
        next_text(&mut ws, WAIT).await,
        Err(Ending::Closed(1001, "Server shutting down".into()))
    );
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("exits within the grace period")
        .unwrap();
}

#[tokio::test]
async fn websocket_streams_count_as_open_connections() {
    let agent = Agent::start(&[("MAX_CONNECTIONS", "2")]).await;
    let token = agent.token().await;
    let quiet =
        format!("/api/v1/events/ws?token={token}&type=container&container=no-such-container-ever");
    let _a = agent.ws(&quiet).await;
    let _b = agent.ws(&quiet).await;
    // Both slots are held by streams: a third connection is not served yet.
    let waiting = tokio::time::timeout(
        Duration::from_millis(500),
        tokio_tungstenite::connect_async(format!("ws://{}{quiet}", agent.addr)),
    )
    .await;
    assert!(waiting.is_err(), "a third connection waits for a free slot");
    drop(_a);
    let (third, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://{}{quiet}", agent.addr)),
    )
    .await
    .expect("served once a stream closed")
    .unwrap();
    drop(third);
}

#[tokio::test]
async fn an_event_too_large_to_keep_is_summarised_and_the_stream_goes_on() {
    let label = unique_name("huge");
    let file = std::env::temp_dir().join(format!("{label}.labels"));
    let mut labels = format!("{label}=1\n");
    // 1.2 MB of labels, in values under the CLI's 64 KiB line limit.
    for i in 0..24 {
        labels.push_str(&format!("big{i}={}\n", "x".repeat(50_000)));
    }
    std::fs::write(&file, labels).unwrap();
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&event=create&label={label}"
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let huge = Container::create(&["--label-file", file.to_str().unwrap()], &["wait"]);
    let small = Container::create(&["--label", &format!("{label}=1")], &["wait"]);
    let _ = std::fs::remove_file(&file);

    let first: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
    assert_eq!(
        (&first["Type"], &first["Action"]),
        (&"container".into(), &"create".into())
    );
    assert_eq!(first["id"], huge.id);
    let note = first["Actor"]["Attributes"]["docker-agent.truncated"]
        .as_str()
        .unwrap_or_else(|| panic!("summarised: {first}"));
    assert!(note.starts_with("event of "), "{note}");
    assert!(first["timeNano"].as_u64().is_some());
    let next: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
    assert_eq!(next["id"], small.id, "the stream goes on: {next}");
    assert_eq!(next["Actor"]["Attributes"][label.as_str()], "1");
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500)).await,
        Err(Ending::Silent),
        "no disconnect notice, no repeat"
    );
}

#[tokio::test]
async fn a_stream_reader_pausing_past_the_write_timeout_is_not_cut_off() {
    // 2 s write timeout, but a peer only counts as dead after 3 × 2 s pings.
    let agent = Agent::start(&[("WRITE_TIMEOUT", "2"), ("WS_PING_INTERVAL", "2")]).await;
    let c = Container::run(&[], &["sleep:1500", "wide:20000", "wait"]);
    let token = agent.token().await;
    let mut ws = agent.ws(&ws_path("logs", &c.id, &token, "&tail=0")).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    for i in 1..=20_000 {
        let line = next_text(&mut ws, WAIT).await.unwrap();
        assert!(line.starts_with(&format!("line {i} ")), "line {i}");
    }
}

#[tokio::test]
async fn a_stream_closes_with_1008_when_its_token_expires() {
    let agent = Agent::start(&[]).await;
    let short = oracle_token(
        jsonwebtoken::Algorithm::HS256,
        &serde_json::json!({"sub": "admin", "exp": now() + 2}),
        SECRET.as_bytes(),
    );
    let quiet = "type=container&container=no-such-container-ever";
    let mut ws = agent
        .ws(&format!("/api/v1/events/ws?token={short}&{quiet}"))
        .await;
    assert_eq!(
        next_text(&mut ws, Duration::from_secs(10)).await,
        Err(Ending::Closed(1008, "token expired".into()))
    );
}

#[tokio::test]
async fn an_empty_query_token_does_not_hide_a_bearer_header() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws_with(
            "/api/v1/events/ws?token=&type=container&container=no-such-container-ever",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500)).await,
        Err(Ending::Silent),
        "the bearer header authenticates the stream"
    );
}

#[tokio::test]
async fn websocket_upgrades_refuse_unlisted_origins_with_403() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let agent = Agent::start(&[("CORS_ORIGINS", "https://dash.example")]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/events/ws?token={token}&type=container&container=no-such");
    let mut req = format!("ws://{}{path}", agent.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 403);
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    // A listed origin and no origin at all (a non-browser client) pass.
    let mut listed = agent
        .ws_with(&path, &[("origin", "https://dash.example")])
        .await;
    let mut bare = agent.ws(&path).await;
    for ws in [&mut listed, &mut bare] {
        assert_eq!(
            next_text(ws, Duration::from_millis(300)).await,
            Err(Ending::Silent)
        );
    }
}
