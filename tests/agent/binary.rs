//! The real `docker-agent` binary: zero-config start, `.env` loading,
//! refusing weak settings, secrets kept out of logs, SIGTERM handling.

use crate::util::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A blocking HTTP/1.1 exchange over a fresh connection (`curl` stands in as
/// an independent client): the body.
fn curl_body(args: &[&str]) -> String {
    curl(args).1
}

#[test]
fn zero_config_start_prints_generated_secrets_once_and_never_logs_them() {
    let dir = temp_dir("zero");
    let mut agent = Process::spawn(&dir, &[]);
    let pw_line = agent.wait_line("generated API_PASSWORD");
    let password = pw_line.rsplit(": ").next().unwrap().to_string();
    let key_line = agent.wait_line("generated MCP_API_KEY");
    let mcp_key = key_line.rsplit(": ").next().unwrap().to_string();
    assert!(password.len() >= 16 && mcp_key.len() >= 32);
    let base = format!("http://{}", agent.address());

    let login = curl_body(&[
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-H",
        "content-type: application/json",
        "-d",
        &format!(r#"{{"username":"admin","password":"{password}"}}"#),
    ]);
    let token = serde_json::from_str::<serde_json::Value>(&login).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let check = curl_body(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{base}/api/v1/auth/check"),
    ]);
    assert!(check.contains(r#""authenticated":true"#), "{check}");
    curl_body(&[&format!(
        "{base}/api/v1/containers/?token={token}&api_key={mcp_key}"
    )]);
    curl_body(&[&format!("{base}/api/v1/nope?password={password}")]);

    let (code, lines) = agent.terminate();
    assert_eq!(code, 0, "clean exit on SIGTERM");
    let all = lines.join("\n");
    assert_eq!(
        all.matches(&password).count(),
        1,
        "password printed exactly once"
    );
    assert_eq!(
        all.matches(&mcp_key).count(),
        1,
        "MCP key printed exactly once"
    );
    assert!(!all.contains(&token), "token never logged");
    assert!(!all.contains("token="), "query strings never logged");
    let access: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(r#""target":"access""#))
        .collect();
    assert!(access.len() >= 4, "one line per request: {access:#?}");
    for line in access {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "time",
            "level",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
            "client",
        ] {
            assert!(!v[key].is_null(), "{key} missing in {line}");
        }
    }
    assert!(lines.iter().any(|l| l.contains("shutting down")));
}

#[test]
fn configured_secrets_never_appear_in_output() {
    let dir = temp_dir("explicit");
    let mut agent = Process::spawn(
        &dir,
        &[
            ("SECRET_KEY", SECRET),
            ("API_PASSWORD", PASSWORD),
            ("MCP_API_KEY", MCP_KEY),
        ],
    );
    let base = format!("http://{}", agent.address());
    curl_body(&[
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-d",
        &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
    ]);
    curl_body(&[
        "-H",
        &format!("Authorization: Bearer {MCP_KEY}"),
        &format!("{base}/api/v1/containers/?api_key={MCP_KEY}"),
    ]);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    curl_body(&[
        "-X",
        "POST",
        &format!("{base}/mcp?api_key={MCP_KEY}"),
        "-d",
        ping,
    ]);
    curl_body(&[
        "-X",
        "POST",
        &format!("{base}/mcp"),
        "-H",
        &format!("Authorization: Bearer {MCP_KEY}"),
        "-d",
        ping,
    ]);
    curl_body(&[
        "-X",
        "POST",
        &format!("{base}/mcp/messages/?session_id=0123&api_key={MCP_KEY}"),
        "-d",
        ping,
    ]);
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0);
    let all = lines.join("\n");
    for secret in [SECRET, PASSWORD, MCP_KEY] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(!all.contains("generated"));
}

#[test]
fn dotenv_is_read_and_the_environment_wins() {
    let dir = temp_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        "# settings\nAPI_USERNAME=from-file\nAPI_PASSWORD='file password'\nSECRET_KEY=\"0123456789abcdef0123456789abcdef-file\"\nMCP_API_KEY=file-key-0123456789\n",
    )
    .unwrap();
    let mut agent = Process::spawn(&dir, &[("API_USERNAME", "from-env")]);
    let base = format!("http://{}", agent.address());
    let ok = curl_body(&[
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-d",
        r#"{"username":"from-env","password":"file password"}"#,
    ]);
    assert!(ok.contains("access_token"), "{ok}");
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0);
    assert!(
        !lines.join("\n").contains("generated"),
        "nothing generated when .env provides secrets"
    );
}

#[test]
fn weak_or_invalid_settings_stop_the_start_with_a_clear_message() {
    let dir = temp_dir("weak");
    let cases = [
        ("SECRET_KEY", "short", "at least 32 characters"),
        ("MCP_API_KEY", "short", "at least 16 characters"),
        ("API_PASSWORD", "x", "at least 12 characters"),
        (
            "API_PASSWORD",
            "your_secure_password",
            "well-known placeholder",
        ),
        ("SECRET_KEY", &"a".repeat(36), "too predictable"),
        ("MCP_API_KEY", "abcabcabcabcabcabc", "too predictable"),
        ("CORS_ORIGINS", "not-a-url", "is not an origin"),
        ("ALGORITHM", "none", "HS256, HS384 or HS512"),
        ("RATE_LIMIT_REQUESTS", "lots", "whole number"),
        ("PORT", "99999", "whole number"),
    ];
    for (var, value, hint) in cases {
        let (code, out) = Process::spawn(&dir, &[(var, value)]).wait_exit();
        assert_eq!(code, 2, "{var}={value}: {out}");
        assert!(out.contains(var) && out.contains(hint), "{var}: {out}");
        let secret = var.ends_with("KEY") || var.ends_with("PASSWORD");
        assert!(
            !secret || value.len() < 3 || !out.contains(value),
            "a secret is not echoed: {out}"
        );
    }
}

#[test]
fn secrets_are_read_from_files_without_their_trailing_newline() {
    let dir = temp_dir("secret-files");
    for (name, content) in [
        ("key", format!("{SECRET}\n")),
        ("password", format!("{PASSWORD}\r\n")),
        ("mcp", format!("{MCP_KEY}\n")),
    ] {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut agent = Process::spawn(
        &dir,
        &[
            ("SECRET_KEY_FILE", &path("key")),
            ("API_PASSWORD_FILE", &path("password")),
            ("MCP_API_KEY_FILE", &path("mcp")),
        ],
    );
    let base = format!("http://{}", agent.address());
    let login = curl_login(&base, PASSWORD);
    assert!(login.contains("access_token"), "{login}");
    let forged = oracle_token(
        jsonwebtoken::Algorithm::HS256,
        &serde_json::json!({"sub": "admin", "exp": now() + 60}),
        SECRET.as_bytes(),
    );
    let images = curl_body(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &format!("Authorization: Bearer {forged}"),
        &format!("{base}/api/v1/images"),
    ]);
    assert_eq!(
        images, "200",
        "a token signed with the file's key is accepted"
    );
    assert_ne!(mcp_status(&base, MCP_KEY), "401");
    assert_eq!(mcp_status(&base, &format!("{MCP_KEY}x")), "401");
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0);
    assert!(!lines.join("\n").contains("generated"), "{lines:?}");
}

#[test]
fn a_secret_set_twice_or_in_an_unreadable_file_stops_the_start() {
    let dir = temp_dir("secret-file-errors");
    let file = dir.join("password");
    std::fs::write(&file, "root-only-password-content\n").unwrap();
    let file = file.to_string_lossy().into_owned();
    let both = [("API_PASSWORD", PASSWORD), ("API_PASSWORD_FILE", &file)];
    let (code, out) = Process::spawn(&dir, &both).wait_exit();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("set either API_PASSWORD or API_PASSWORD_FILE, not both"),
        "{out}"
    );
    let (code, out) = Process::spawn(&dir, &[("MCP_API_KEY_FILE", "/nonexistent/mcp")]).wait_exit();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("MCP_API_KEY_FILE") && out.contains("No such file or directory"),
        "{out}"
    );
    // Mode 0600, owned by root: the unprivileged agent may not read it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out) = Process::spawn_as_nobody(&dir, &[("API_PASSWORD_FILE", &file)]).wait_exit();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("API_PASSWORD_FILE") && out.contains("Permission denied"),
        "{out}"
    );
    assert!(!out.contains("root-only-password-content"), "{out}");
}

#[test]
fn help_and_version() {
    let run = |arg: &str| {
        Command::new(env!("CARGO_BIN_EXE_docker-agent"))
            .arg(arg)
            .output()
            .unwrap()
    };
    let help = run("--help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("USAGE") && text.contains("API_PASSWORD"),
        "{text}"
    );
    for surface in [
        "REST",
        "WebSocket",
        "MCP",
        "/mcp/sse",
        "dashboard at http://HOST:PORT/",
        "http://HOST:PORT/metrics",
        "PLAIN_HTTP_EXPOSURE",
        "serve [--host ADDR]",
        "healthcheck",
        "token new",
    ] {
        assert!(text.contains(surface), "--help names {surface}: {text}");
    }
    assert!(
        !text.replace("/mcp/sse", "").contains("/sse"),
        "the legacy SSE path is /mcp/sse: {text}"
    );
    let version = run("--version");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("docker-agent {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(run("--bogus").status.code(), Some(2));
    let serve_bogus = Command::new(env!("CARGO_BIN_EXE_docker-agent"))
        .args(["serve", "--port", "1"])
        .output()
        .unwrap();
    assert_eq!(
        serve_bogus.status.code(),
        Some(2),
        "serve takes --host only"
    );
}

#[test]
fn debug_mode_logs_readable_lines() {
    let dir = temp_dir("debug");
    let mut agent = Process::spawn(
        &dir,
        &[
            ("DEBUG", "true"),
            ("NO_COLOR", "1"),
            ("API_PASSWORD", PASSWORD),
        ],
    );
    let addr = agent.plain_address();
    curl_body(&[&format!("http://{addr}/api/v1/healthz")]);
    let line = agent.wait_line("GET /api/v1/healthz 200");
    assert!(!line.starts_with('{'), "{line}");
    let (code, _) = agent.terminate();
    assert_eq!(code, 0);
}

#[tokio::test]
async fn sigterm_closes_streams_with_1001_and_exits_within_the_grace_period() {
    let dir = temp_dir("sigterm");
    let mut agent = Process::spawn(
        &dir,
        &[("API_PASSWORD", PASSWORD), ("SHUTDOWN_TIMEOUT", "5")],
    );
    let addr = agent.address();
    let login = curl_body(&[
        "-X",
        "POST",
        &format!("http://{addr}/api/v1/auth/login"),
        "-d",
        &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
    ]);
    let token: serde_json::Value = serde_json::from_str(&login).unwrap();
    let url = format!(
        "ws://{addr}/api/v1/events/ws?token={}",
        token["access_token"].as_str().unwrap()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let (code, _) = tokio::task::spawn_blocking(move || agent.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "exited within the grace period"
    );
    // Events of containers other tests start meanwhile may come first.
    let ending = loop {
        match next_text(&mut ws, Duration::from_secs(5)).await {
            Ok(_) => continue,
            Err(ending) => break ending,
        }
    };
    assert_eq!(ending, Ending::Closed(1001, "Server shutting down".into()));
}

#[test]
fn the_healthcheck_subcommand_reports_health_by_exit_status() {
    let dir = temp_dir("probe");
    let check = |port: &str, host: &str| {
        Command::new(env!("CARGO_BIN_EXE_docker-agent"))
            .arg("healthcheck")
            .current_dir(&dir)
            .env_clear()
            .env("PORT", port)
            .env("HOST", host)
            .status()
            .unwrap()
            .code()
    };
    let mut healthy = Process::spawn(&dir, &[("API_PASSWORD", PASSWORD)]);
    let port = healthy.address().rsplit(':').next().unwrap().to_string();
    assert_eq!(
        check(&port, "0.0.0.0"),
        Some(0),
        "wildcard HOST is probed on loopback"
    );
    assert_eq!(check(&port, "127.0.0.1"), Some(0));
    let (code, _) = healthy.terminate();
    assert_eq!(code, 0);
    assert_eq!(check(&port, "127.0.0.1"), Some(1), "nothing listening");

    let missing = temp_socket("probe-missing");
    let docker_host = format!("unix://{}", missing.display());
    let mut degraded = Process::spawn(
        &dir,
        &[("API_PASSWORD", PASSWORD), ("DOCKER_HOST", &docker_host)],
    );
    let port = degraded.address().rsplit(':').next().unwrap().to_string();
    assert_eq!(
        check(&port, "127.0.0.1"),
        Some(1),
        "up but without Docker is unhealthy"
    );
    let why = healthcheck_output(&dir, &port);
    assert!(
        why.contains("cannot reach Docker: cannot open the Docker socket: not found"),
        "{why}"
    );
    let warning = degraded.wait_line("cannot open the Docker socket");
    assert!(
        warning.contains(r#""level":"WARN""#)
            && warning.contains(&format!("{}: not found", missing.display())),
        "said at start: {warning}"
    );
    degraded.terminate();
}

/// What `docker-agent healthcheck` prints for an agent on `port`.
fn healthcheck_output(dir: &Path, port: &str) -> String {
    let (code, stderr) = healthcheck(dir, "127.0.0.1", port);
    assert_eq!(code, 1);
    stderr
}

#[test]
fn a_socket_the_agent_may_not_open_is_named_with_its_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("denied");
    let socket = temp_socket("denied");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let docker_host = format!("unix://{}", socket.display());
    let mut agent = Process::spawn_as_nobody(
        &dir,
        &[("API_PASSWORD", PASSWORD), ("DOCKER_HOST", &docker_host)],
    );
    let warning = agent.wait_line("cannot open the Docker socket");
    let fix = format!(
        "{0}: permission denied — run the agent in the socket's group \
         (docker run --group-add $(stat -c %g {0})) or set DOCKER_HOST",
        socket.display()
    );
    assert!(
        warning.contains(r#""level":"WARN""#) && warning.contains(&fix),
        "{warning}"
    );
    let base = format!("http://{}", agent.address());
    assert_eq!(
        curl_body(&[&format!("{base}/api/v1/healthz")]),
        r#"{"status":"degraded","docker_connected":false,"docker_error":"cannot open the Docker socket: permission denied"}"#
    );
    let port = base.rsplit(':').next().unwrap();
    let why = healthcheck_output(&dir, port);
    assert!(why.contains("permission denied"), "{why}");
    let (code, _) = agent.terminate();
    assert_eq!(code, 0);
    let _ = std::fs::remove_file(&socket);
}

#[tokio::test]
async fn rust_log_trace_never_writes_stream_payloads_or_tokens() {
    let marker = unique_name("payload-marker");
    let c = Container::run(&[], &[&format!("out:{marker}"), "wait"]);
    let dir = temp_dir("trace");
    let mut agent = Process::spawn(&dir, &[("API_PASSWORD", PASSWORD), ("RUST_LOG", "trace")]);
    let agent_at = Agent::at(agent.address().parse().unwrap());
    let token = agent_at.token().await;
    let refused = agent_at.get("/api/v1/images", Some("not-a-token")).await;
    assert_eq!(
        refused.status, 401,
        "logs a DEBUG record of the agent's own"
    );
    let mut ws = agent_at
        .ws(&format!("/api/v1/logs/ws/{}?token={token}", c.id))
        .await;
    let got = next_text(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert!(got.contains(&marker), "{got}");
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(format!(
        "client says {marker}"
    )))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, lines) = tokio::task::spawn_blocking(move || agent.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0);
    let all = lines.join("\n");
    let hex: String = marker.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        lines.iter().any(|l| l.contains(r#""level":"DEBUG""#)),
        "RUST_LOG=trace is honoured for the agent's own records: {all}"
    );
    for secret in [marker.as_str(), hex.as_str(), token.as_str()] {
        assert!(!all.contains(secret), "{secret} reached the log:\n{all}");
    }
}

#[test]
fn debug_lines_are_plain_text_in_a_pipe() {
    let dir = temp_dir("colour");
    let mut agent = Process::spawn(&dir, &[("DEBUG", "true"), ("API_PASSWORD", PASSWORD)]);
    let addr = agent.plain_address();
    curl_body(&[&format!("http://{addr}/api/v1/healthz")]);
    agent.wait_line("/api/v1/healthz");
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0);
    let all = lines.join("\n");
    assert!(all.contains("INFO"), "{all}");
    assert!(
        !all.contains('\x1b'),
        "no colour codes outside a terminal: {all:?}"
    );
}

#[test]
fn sigterm_right_after_listening_stops_gracefully() {
    let dir = temp_dir("early-term");
    let mut agent = Process::spawn(&dir, &[("API_PASSWORD", PASSWORD)]);
    agent.wait_line("docker-agent listening");
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("SIGTERM received")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn readable_lines_cannot_be_forged_through_a_value() {
    let dir = temp_dir("forge");
    let mut process = Process::spawn(&dir, &[("DEBUG", "true"), ("API_PASSWORD", PASSWORD)]);
    let agent = Agent::at(process.plain_address().parse().unwrap());
    let token = agent.token().await;
    let forged = "2026-12-06T00:00:00.000Z INFO  audit action=container.create result=ok";
    let body = serde_json::json!({"image": image(), "name": format!("x\n{forged}\u{1b}[2J")});
    let auth = format!("Bearer {token}");
    let resp = agent
        .request(
            hyper::Method::POST,
            "/api/v1/containers/",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(resp.status, 422, "{:?}", resp.body);
    process.wait_line("container.create");
    let (_, lines) = process.terminate();
    let record = lines
        .iter()
        .find(|l| l.contains("action=container.create"))
        .unwrap();
    assert!(record.contains("result=refused"), "{record}");
    assert!(
        record.contains(r"container_name=x\n2026-12-06T"),
        "{record}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with(forged)),
        "a forged line: {lines:#?}"
    );
    assert!(!lines.concat().contains('\u{1b}'), "{lines:#?}");
}

/// The HTTP status of a GET of `url` (`-k`: TLS_AUTO's certificate is self-signed).
fn status_of(url: &str) -> String {
    curl_body(&["-k", "-o", "/dev/null", "-w", "%{http_code}", url])
}

#[test]
fn the_start_names_the_dashboard_and_metrics_urls_it_serves() {
    let dir = temp_dir("urls");
    for (env, scheme, host) in [
        (None, "http", "127.0.0.1"),
        (Some(("HOST", "0.0.0.0")), "http", "localhost"),
        (Some(("TLS_AUTO", "true")), "https", "127.0.0.1"),
    ] {
        let env = Vec::from_iter(env);
        let mut agent = Process::spawn(&dir, &env);
        let port = agent.address().rsplit(':').next().unwrap().to_string();
        let base = format!("{scheme}://{host}:{port}");
        let line = agent.wait_line("docker-agent: dashboard ");
        assert_eq!(
            line,
            format!("docker-agent: dashboard {base}/, metrics {base}/metrics"),
            "{env:?}"
        );
        assert_eq!(
            status_of(&format!("{base}/")),
            "200",
            "the dashboard answers"
        );
        assert_eq!(
            status_of(&format!("{base}/metrics")),
            "401",
            "the metrics answer (with a token)"
        );
        if host == "localhost" {
            let hint = agent.wait_line("from another machine");
            assert!(hint.contains(&format!("http://ADDRESS:{port}/")), "{hint}");
        }
        let (code, _) = agent.terminate();
        assert_eq!(code, 0);
    }
    let mut agent = Process::spawn(&dir, &[("UI_ENABLED", "false")]);
    let port = agent.address().rsplit(':').next().unwrap().to_string();
    let line = agent.wait_line("docker-agent: metrics ");
    assert_eq!(
        line,
        format!("docker-agent: metrics http://127.0.0.1:{port}/metrics"),
        "no dashboard named when it is off"
    );
    agent.terminate();
}

#[test]
fn the_quick_starts_env_file_keeps_every_secret() {
    let dir = temp_dir("quick-start");
    let recipe = doc_block("README.md", "bash", "cargo run --release          #");
    let (write, run) = recipe
        .split_once("cargo run --release")
        .expect("the recipe writes .env, then runs the agent");
    run_ok(Command::new("sh").args(["-ec", write]).current_dir(&dir));
    assert!(run.trim_start().starts_with('#'), "{recipe}");
    let value = |name| dotenv_value(&dir, name);
    let mut agent = Process::spawn(&dir, &[]);
    let base = format!("http://{}", agent.address());
    let login = curl_login(&base, &value("API_PASSWORD"));
    assert!(login.contains("access_token"), "{login}");
    assert_ne!(mcp_status(&base, &value("MCP_API_KEY")), "401");
    let (code, lines) = agent.terminate();
    assert_eq!(code, 0);
    assert!(
        !lines.iter().any(|l| l.contains("generated")),
        "nothing generated, so nothing changes at a restart: {lines:#?}"
    );
}
