//! The table: one row per hostile case — its name, what is sent, and the
//! answer the agent owes it. Rows are grouped by what they attack; every
//! group is plain data built from the few constructors at the bottom, and
//! kept one row to a line (`rustfmt::skip`).

use super::expect::Expect::{self, *};
use super::wire::{frame, frame_header};
use crate::util::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// One hostile case.
pub struct Case {
    pub name: String,
    pub send: Send,
    pub expect: Expect,
}

/// What a case sends, each time over a fresh connection.
pub enum Send {
    /// These bytes at once; the connection stays open for writing.
    Bytes(Vec<u8>),
    /// `first` at once, then `then` a few bytes at a time, then nothing more.
    Trickle { first: Vec<u8>, then: Vec<u8> },
    /// A WebSocket handshake; once upgraded, `frame` written raw, then a ping.
    Ws {
        path: String,
        headers: Vec<(String, String)>,
        frame: Option<Vec<u8>>,
    },
}

/// Credentials the table uses where a case needs to get past
/// authentication: a valid token and a live MCP session (2025-03-26, the
/// version with batches).
pub struct Keys {
    pub token: String,
    pub session: String,
}

/// Every hostile case.
pub fn table(keys: &Keys) -> Vec<Case> {
    [
        malformed_http(),
        slow_clients(),
        login_bodies(),
        exec_bodies(keys),
        jwt_variants(),
        path_tricks(keys),
        smuggled_paths(keys),
        query_values(keys),
        websocket_handshakes(keys),
        websocket_frames(keys),
        mcp_admission(keys),
        mcp_bodies(keys),
        pull_bodies(keys),
        create_bodies(keys),
    ]
    .into_iter()
    .flatten()
    .collect()
}

const HEAD_431: &str = "Request headers too large (limit 16 KiB and 100 fields)";
const BODY_413: &str = "Request body too large (limit 64 KiB)";
const MCP_BODY_413: &str = "Request body too large (limit 256 KiB)";
const BODY_408: &str = "Request body not received in time";
const BAD_TOKEN: &str = "Invalid or expired token";
const NO_TOKEN: &str = "Not authenticated";
const BAD_KEY: &str = "Invalid or missing MCP API key";

#[rustfmt::skip]
fn malformed_http() -> Vec<Case> {
    let healthz = |line: &str, extra: &str| {
        raw(format!("{line}\r\nHost: agent\r\nConnection: close\r\n{extra}\r\n").as_bytes())
    };
    let header = |h: &[u8]| {
        let mut req = b"GET /api/v1/healthz HTTP/1.1\r\nHost: agent\r\n".to_vec();
        req.extend_from_slice(h);
        req.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        raw(&req)
    };
    let big = |n: usize| format!("X-Big: {}", "a".repeat(n));
    let fields: String = (0..101).map(|i| format!("X-Field-{i}: 1\r\n")).collect();
    let spread: String = (0..90)
        .map(|i| format!("X-Part-{i}: {}\r\n", "b".repeat(200)))
        .collect();
    let login = |headers: &str, body: &str| {
        raw(format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n{headers}\r\n{body}"
        )
        .as_bytes())
    };
    let smuggled = "POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nContent-Length: 4\r\n\
                    Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/healthz HTTP/1.1\r\nHost: agent\r\n\r\n";
    vec![
        case("method with a control byte", healthz("GE\x01T /api/v1/healthz HTTP/1.1", ""), StatusOrClosed(400)),
        case("unknown method", healthz("BREW /api/v1/healthz HTTP/1.1", ""), Detail(405, "Method Not Allowed")),
        case("HTTP/9.9", healthz("GET /api/v1/healthz HTTP/9.9", ""), StatusOrClosed(400)),
        case("HTTP/1.2", healthz("GET /api/v1/healthz HTTP/1.2", ""), StatusOrClosed(400)),
        case("request line without a version", raw(b"GET /api/v1/healthz\r\n\r\n"), StatusOrClosed(400)),
        case("HTTP/2 preface on HTTP/1.1", raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), StatusOrClosed(400)),
        case("TLS ClientHello on the plain port", raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), StatusOrClosed(400)),
        case("raw space inside the path", healthz("GET /api/v1/containers/a b HTTP/1.1", ""), StatusOrClosed(400)),
        case("raw NUL inside the path", healthz("GET /api/v1/\0healthz HTTP/1.1", ""), StatusOrClosed(400)),
        case("asterisk-form target", healthz("OPTIONS * HTTP/1.1", ""), Detail(404, "Not Found")),
        case("NUL in a header value", header(b"X-A: a\0b"), StatusOrClosed(400)),
        case("header without a colon", header(b"X-No-Colon"), StatusOrClosed(400)),
        case("obs-fold continuation line", header(b"X-A: a\r\n  folded"), StatusOrClosed(400)),
        case("space before the colon", header(b"X-A : b"), StatusOrClosed(400)),
        case("header name with a separator", header(b"X(A): b"), StatusOrClosed(400)),
        case("CR alone inside a header", header(b"X-A: a\rb"), StatusOrClosed(400)),
        case("one 20 KiB header", header(big(20 * 1024).as_bytes()), Detail(431, HEAD_431)),
        case("90 headers adding up to 18 KiB", healthz("GET /api/v1/healthz HTTP/1.1", &spread), Detail(431, HEAD_431)),
        case("101 header fields", healthz("GET /api/v1/healthz HTTP/1.1", &fields), StatusOrClosed(431)),
        case("one 40 KiB header", header(big(40 * 1024).as_bytes()), StatusOrClosed(431)),
        case("one 96 KiB header", header(big(96 * 1024).as_bytes()), StatusOrClosed(431)),
        case("one 1 MiB header", header(big(1 << 20).as_bytes()), StatusOrClosed(431)),
        case("a 70 KiB request target", healthz(&format!("GET /{} HTTP/1.1", "a".repeat(70 * 1024)), ""), StatusOrClosed(431)),
        case("Content-Length with Transfer-Encoding, a request smuggled behind", raw(smuggled.as_bytes()), OnceThenClosed(422)),
        case("negative Content-Length", login("Content-Length: -1\r\n", "{}"), StatusOrClosed(400)),
        case("overflowing Content-Length", login("Content-Length: 99999999999999999999999\r\n", "{}"), StatusOrClosed(400)),
        case("Content-Length that is not a number", login("Content-Length: 2x\r\n", "{}"), StatusOrClosed(400)),
        case("two conflicting Content-Lengths", login("Content-Length: 2\r\nContent-Length: 3\r\n", "{}x"), StatusOrClosed(400)),
        case("conflicting Content-Length list", login("Content-Length: 2, 3\r\n", "{}x"), StatusOrClosed(400)),
        case("a terabyte declared", login("Content-Length: 1000000000000\r\n", "{}"), Detail(413, BODY_413)),
        case("chunk size that is not hex", login("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"), StatusOrClosed(400)),
        case("chunk size over 64 bits", login("Transfer-Encoding: chunked\r\n", "fffffffffffffffffff\r\n{}\r\n0\r\n\r\n"), StatusOrClosed(400)),
        case("chunk without its CRLF", login("Transfer-Encoding: chunked\r\n", "2\r\n{}XX0\r\n\r\n"), StatusOrClosed(400)),
        case("Transfer-Encoding other than chunked", login("Transfer-Encoding: gzip\r\n", "{}"), StatusOrClosed(400)),
    ]
}

#[rustfmt::skip]
fn slow_clients() -> Vec<Case> {
    let login_head = |len: usize| {
        format!("POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nContent-Length: {len}\r\n\r\n")
    };
    // 400 bytes, eight every 100 ms: twice the 2 s the agent waits for a body.
    let body = format!(
        r#"{{"username":"admin","password":"x","pad":"{}"}}"#,
        "x".repeat(350)
    );
    vec![
        case("connected and silent", raw(b""), StatusOrClosed(408)),
        case("request head trickled then abandoned", trickle("", "GET /api/v1/healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: 1"), StatusOrClosed(408)),
        case("login body that never completes", raw(format!("{}{{\"user", login_head(1000)).as_bytes()), Detail(408, BODY_408)),
        case("login body trickled past the deadline", trickle(&login_head(body.len()), &body), Detail(408, BODY_408)),
        case("chunked body that never ends", raw(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"), Detail(408, BODY_408)),
        case("MCP body that never completes", raw(format!("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {MCP_KEY}\r\nContent-Length: 1000\r\n\r\n{{\"json").as_bytes()), Detail(408, BODY_408)),
    ]
}

/// Exec bodies are read before any container is looked up, so none is needed.
#[rustfmt::skip]
fn exec_bodies(keys: &Keys) -> Vec<Case> {
    let auth = format!("Bearer {}", keys.token);
    let exec = |body: &[u8]| {
        http("POST", "/api/v1/containers/web/exec",
            &[("Authorization", &auth), ("Content-Type", "application/json")], body)
    };
    let nested = format!(r#"{{"cmd":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    vec![
        case("exec body over 64 KiB", exec(format!(r#"{{"cmd":["{}"]}}"#, "x".repeat(70 * 1024)).as_bytes()), Detail(413, BODY_413)),
        case("exec body that is not JSON", exec(b"cmd=ls"), Invalid("json_invalid")),
        case("exec body of 10,000 nested arrays", exec(nested.as_bytes()), Invalid("json_invalid")),
        case("exec body that is an array", exec(br#"[["ls"]]"#), Invalid("model_attributes_type")),
        case("exec body that is empty", exec(b""), Invalid("missing")),
        case("exec cmd as one shell string", exec(br#"{"cmd":"ls; rm -rf /"}"#), Invalid("list_type")),
        case("exec cmd with a NUL", exec(br#"{"cmd":["ls\u0000x"]}"#), Invalid("string_type")),
        case("exec cmd of numbers", exec(br#"{"cmd":[1,2]}"#), Invalid("string_type")),
        case("exec field Docker would take (Privileged)", exec(br#"{"cmd":["ls"],"Privileged":true}"#), Invalid("extra_forbidden")),
        case("exec env as a list", exec(br#"{"cmd":["ls"],"env":["A=1"]}"#), Invalid("dict_type")),
        case("exec env name with '='", exec(br#"{"cmd":["ls"],"env":{"LD_PRELOAD=/x":"1"}}"#), Invalid("value_error")),
        case("exec relative workdir", exec(br#"{"cmd":["ls"],"workdir":"../.."}"#), Invalid("value_error")),
        case("exec timeout of 1e400", exec(br#"{"cmd":["ls"],"timeout":1e400}"#), Invalid("json_invalid")),
        case("exec timeout past 64 bits", exec(br#"{"cmd":["ls"],"timeout":99999999999999999999}"#), Invalid("int_range")),
        case("exec negative timeout", exec(br#"{"cmd":["ls"],"timeout":-1}"#), Invalid("int_range")),
    ]
}

#[rustfmt::skip]
fn login_bodies() -> Vec<Case> {
    let login = |body: &[u8]| {
        http(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            body,
        )
    };
    let nested =
        |open: &str, close: &str| format!("{}{}", open.repeat(10_000), close.repeat(10_000));
    let mut chunked = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..70 {
        chunked.extend_from_slice(format!("400\r\n{}\r\n", "x".repeat(1024)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let long_name = json!({"username": "u".repeat(10_240), "password": "x"}).to_string();
    vec![
        case("login body over 64 KiB", login(format!(r#"{{"username":"admin","password":"{}"}}"#, "x".repeat(70 * 1024)).as_bytes()), Detail(413, BODY_413)),
        case("chunked login body over 64 KiB", raw(&chunked), Detail(413, BODY_413)),
        case("login body of 10,000 nested arrays", login(nested("[", "]").as_bytes()), Invalid("json_invalid")),
        case("login body of 10,000 nested objects", login(nested(r#"{"a":"#, "}").as_bytes()), Invalid("json_invalid")),
        case("login body that is not JSON", login(b"username=admin&password=x"), Invalid("json_invalid")),
        case("login body with invalid UTF-8", login(b"{\"username\":\"\xff\xfe\",\"password\":\"x\"}"), Invalid("json_invalid")),
        case("login body with a lone surrogate", login(br#"{"username":"\ud800","password":"x"}"#), Invalid("json_invalid")),
        case("login body behind a byte-order mark", login(b"\xef\xbb\xbf{\"username\":\"admin\",\"password\":\"x\"}"), Invalid("json_invalid")),
        case("login body with 1e400", login(br#"{"username":1e400,"password":"x"}"#), Invalid("json_invalid")),
        case("login body that is an array", login(br#"["admin","x"]"#), Invalid("model_attributes_type")),
        case("login body that is null", login(b"null"), Invalid("model_attributes_type")),
        case("login fields of the wrong types", login(br#"{"username":1,"password":[]}"#), Invalid("string_type")),
        case("10 KB username", login(long_name.as_bytes()), Invalid("string_too_long")),
        case("NUL in the password", login(br#"{"username":"admin","password":"a\u0000b"}"#), Detail(401, "Invalid username or password")),
    ]
}

/// Tokens that must not pass, with the detail a REST route answers them
/// with; each is tried on a REST route, on a WebSocket `?token=` and on a
/// WebSocket `Authorization: Bearer`.
#[rustfmt::skip]
fn bad_tokens() -> Vec<(&'static str, String, &'static str)> {
    let now = now();
    let key = SECRET.as_bytes();
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = json!({"sub": "admin", "iat": now, "exp": now + 600}).to_string();
    let public_looking = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
    let (hs384, hs512) = (jsonwebtoken::Algorithm::HS384, jsonwebtoken::Algorithm::HS512);
    let valid_then = |suffix: &str| format!("{}{suffix}", hs(hs256, &claims, key));
    vec![
        ("alg none, no signature", unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims), BAD_TOKEN),
        ("alg none with a valid MAC", hs(r#"{"alg":"none","typ":"JWT"}"#, &claims, key), BAD_TOKEN),
        ("RS256 header, MAC keyed with a public key", hs(r#"{"alg":"RS256","typ":"JWT"}"#, &claims, public_looking.as_bytes()), BAD_TOKEN),
        ("RS256 header, MAC keyed with the real key", hs(r#"{"alg":"RS256","typ":"JWT"}"#, &claims, key), BAD_TOKEN),
        ("HS384 when HS256 is configured", oracle_token(hs384, &json!({"sub": "admin", "exp": now + 600}), key), BAD_TOKEN),
        ("HS512 when HS256 is configured", oracle_token(hs512, &json!({"sub": "admin", "exp": now + 600}), key), BAD_TOKEN),
        ("signature of another key", hs(hs256, &claims, b"another-key-another-key-another-key"), BAD_TOKEN),
        ("missing exp", hs(hs256, &json!({"sub": "admin", "iat": now}).to_string(), key), BAD_TOKEN),
        ("exp as a string", hs(hs256, &json!({"sub": "admin", "exp": (now + 600).to_string()}).to_string(), key), BAD_TOKEN),
        ("exp of 1e400", hs(hs256, r#"{"sub":"admin","exp":1e400}"#, key), BAD_TOKEN),
        ("expired", hs(hs256, &json!({"sub": "admin", "exp": now - 10}).to_string(), key), BAD_TOKEN),
        ("not valid yet", hs(hs256, &json!({"sub": "admin", "exp": now + 600, "nbf": now + 300}).to_string(), key), BAD_TOKEN),
        ("no subject", hs(hs256, &json!({"exp": now + 600}).to_string(), key), BAD_TOKEN),
        ("unknown crit extension", hs(r#"{"alg":"HS256","crit":["x"],"x":1}"#, &claims, key), BAD_TOKEN),
        ("header that is an array", hs("[]", &claims, key), BAD_TOKEN),
        ("bad base64", "eyJ!bGciOi$.e30*.sig~".to_string(), BAD_TOKEN),
        ("padded base64 signature", valid_then("="), BAD_TOKEN),
        ("a fourth part", valid_then(".e30"), BAD_TOKEN),
        ("two parts", "eyJhbGciOiJIUzI1NiJ9.e30".to_string(), BAD_TOKEN),
        ("10 KB token", format!("{}.{}.sig", "a".repeat(5000), "b".repeat(5000)), BAD_TOKEN),
        ("10 KB without a dot", "a".repeat(10_000), BAD_TOKEN),
        ("empty token", String::new(), NO_TOKEN),
    ]
}

fn jwt_variants() -> Vec<Case> {
    let mut cases = Vec::new();
    for (what, token, detail) in bad_tokens() {
        let bearer = vec![("Authorization".to_string(), format!("Bearer {token}"))];
        cases.push(case(
            format!("JWT {what}: REST bearer"),
            http(
                "GET",
                "/api/v1/containers/",
                &[("Authorization", &format!("Bearer {token}"))],
                b"",
            ),
            Detail(401, detail),
        ));
        cases.push(case(
            format!("JWT {what}: WebSocket ?token="),
            ws(
                &format!("/api/v1/events/ws?token={token}"),
                Vec::new(),
                None,
            ),
            WsClose(1008, detail),
        ));
        cases.push(case(
            format!("JWT {what}: WebSocket bearer"),
            ws("/api/v1/events/ws", bearer, None),
            WsClose(1008, detail),
        ));
    }
    let huge = "a".repeat(1 << 20);
    let auth = format!("Authorization: Bearer {huge}\r\n");
    cases.push(case(
        "JWT of 1 MB: REST bearer",
        raw(format!("GET /api/v1/containers/ HTTP/1.1\r\nHost: agent\r\n{auth}\r\n").as_bytes()),
        StatusOrClosed(431),
    ));
    cases.push(case(
        "JWT of 1 MB: WebSocket ?token=",
        raw(upgrade(&format!("/api/v1/events/ws?token={huge}"), "").as_bytes()),
        StatusOrClosed(431),
    ));
    cases.push(case(
        "JWT of 1 MB: WebSocket bearer",
        raw(upgrade("/api/v1/events/ws", &auth).as_bytes()),
        StatusOrClosed(431),
    ));
    cases
}

/// A path segment no container could be addressed by, as sent in a URL.
fn tricks() -> Vec<(&'static str, String)> {
    [
        ("%2F", "a%2Fb"),
        ("%2F traversal to images", "..%2F..%2Fimages%2Fjson"),
        ("%2f traversal to info", "..%2f..%2finfo"),
        ("%00", "a%00b"),
        ("..", ".."),
        ("%2e%2e", "%2e%2e"),
        ("%2E%2E", "%2E%2E"),
        ("leading %2F", "%2Fcontainers%2Fjson"),
        ("overlong UTF-8 %c0%af", "..%c0%af..%c0%afversion"),
        ("%ff", "%ff"),
        ("double-encoded %252F", "..%252F..%252Fversion"),
        ("encoded ? smuggling", "x%3Fall%3D1"),
        ("encoded # smuggling", "x%23%2F..%2F..%2Finfo"),
        (
            "Cyrillic name",
            "%D0%BA%D0%BE%D0%BD%D1%82%D0%B5%D0%B9%D0%BD%D0%B5%D1%80",
        ),
        ("emoji name", "web%F0%9F%90%B3"),
    ]
    .into_iter()
    .map(|(what, path)| (what, path.to_string()))
    .chain([("10 KB name", "a".repeat(10 * 1024))])
    .collect()
}

/// Every id position of every route, stream and MCP tool, with every trick.
fn path_tricks(keys: &Keys) -> Vec<Case> {
    let token = &keys.token;
    let auth = format!("Bearer {token}");
    let mut cases = Vec::new();
    for (what, id) in tricks() {
        let rest = [
            ("GET", format!("/api/v1/containers/{id}")),
            ("GET", format!("/api/v1/containers/{id}/logs")),
            ("POST", format!("/api/v1/containers/{id}/start")),
            ("POST", format!("/api/v1/containers/{id}/stop")),
            ("POST", format!("/api/v1/containers/{id}/restart")),
            ("GET", format!("/api/v1/stats/{id}")),
            ("POST", format!("/api/v1/containers/{id}/pause")),
            ("POST", format!("/api/v1/containers/{id}/unpause")),
            ("POST", format!("/api/v1/containers/{id}/kill")),
            ("DELETE", format!("/api/v1/containers/{id}")),
            ("DELETE", format!("/api/v1/images/{id}")),
        ];
        for (method, path) in rest {
            let route = route_name(method, &path, &id);
            let send = http(method, &path, &[("Authorization", &auth)], b"");
            cases.push(case(format!("id {what}: {route}"), send, NotFound));
        }
        for stream in ["logs", "stats"] {
            let send = ws(
                &format!("/api/v1/{stream}/ws/{id}?token={token}"),
                Vec::new(),
                None,
            );
            cases.push(case(
                format!("id {what}: {stream} stream"),
                send,
                WsNotFound,
            ));
        }
        // MCP tools take the id the REST routes decode from the path.
        let decoded = docker_agent::http::query::percent_decode(&id, false);
        for tool in [
            "get_container",
            "get_container_logs",
            "get_container_stats",
            "start_container",
            "stop_container",
            "restart_container",
            "pause_container",
            "unpause_container",
            "kill_container",
            "remove_container",
        ] {
            let call = rpc_call(
                "tools/call",
                json!({"name": tool, "arguments": {"container_id": decoded}}),
            );
            cases.push(case(
                format!("id {what}: MCP {tool}"),
                mcp(keys, call.as_bytes()),
                ToolError("not found"),
            ));
        }
    }
    cases
}

/// `GET /api/v1/containers/{id}` with the id elided, for a row's name.
fn route_name(method: &str, path: &str, id: &str) -> String {
    format!("{method} {}", path.replacen(id, "{id}", 1))
}

/// Raw `?`, `#`, `..` and backslashes that the router sees undecoded.
#[rustfmt::skip]
fn smuggled_paths(keys: &Keys) -> Vec<Case> {
    let auth = format!("Authorization: Bearer {}\r\n", keys.token);
    let get = |target: &str, method: &str| {
        raw(
            format!("{method} {target} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n{auth}\r\n")
                .as_bytes(),
        )
    };
    vec![
        // What follows `?` is a query parameter the route does not take.
        case("raw ? ends the id: GET", get("/api/v1/containers/x?/../../images/json", "GET"), Invalid("extra_forbidden")),
        case("raw ? ends the id: POST stop", get("/api/v1/containers/x?/stop", "POST"), Detail(405, "Method Not Allowed")),
        case("raw # after the id", get("/api/v1/containers/x#/../../images/json", "GET"), NotFound),
        case("raw ../ out of containers", get("/api/v1/containers/../images/", "GET"), NotFound),
        case("raw ../../ out of the API", get("/api/v1/containers/../../../version", "GET"), NotFound),
        case("raw ../ in stats", get("/api/v1/stats/../version", "GET"), NotFound),
        case("raw backslashes", get("/api/v1/containers/..\\..\\images", "GET"), NotFound),
        case("raw non-ASCII bytes in the id", get("/api/v1/containers/контейнер", "GET"), NotFound),
        case("empty id before logs", get("/api/v1/containers//logs", "GET"), NotFound),
    ]
}

/// Query values no option accepts, on REST routes and streams (checked
/// before any container is looked up).
#[rustfmt::skip]
fn query_values(keys: &Keys) -> Vec<Case> {
    let auth = format!("Bearer {}", keys.token);
    let get = |path: &str| http("GET", path, &[("Authorization", &auth)], b"");
    let stream = |path: &str| ws(&format!("{path}&token={}", keys.token), Vec::new(), None);
    let many = vec!["start"; 33].join(",");
    let long = "c".repeat(300);
    vec![
        case("tail not a number", get("/api/v1/containers/x/logs?tail=abc"), Invalid("int_parsing")),
        case("tail past 64 bits", get("/api/v1/containers/x/logs?tail=99999999999999999999"), Invalid("int_parsing")),
        case("tail negative", get("/api/v1/containers/x/logs?tail=-1"), Invalid("greater_than_equal")),
        case("tail with a NUL", get("/api/v1/containers/x/logs?tail=1%00"), Invalid("int_parsing")),
        case("restart timeout 1e9", http("POST", "/api/v1/containers/x/restart?timeout=1e9", &[("Authorization", &auth)], b""), Invalid("int_parsing")),
        case("all=maybe", get("/api/v1/containers/?all=maybe"), Invalid("bool_parsing")),
        case("unknown parameter on the list", get("/api/v1/containers/?bogus=1"), Invalid("extra_forbidden")),
        case("token in the query of a REST route", get("/api/v1/images/?token=x"), Invalid("extra_forbidden")),
        case("unknown parameter on /metrics", get("/metrics?name=web"), Invalid("extra_forbidden")),
        case("token in the query of /metrics", get("/metrics/?token=x"), Invalid("extra_forbidden")),
        case("status filter not a state", get("/api/v1/containers/?status=up"), Invalid("enum")),
        case("label filter without a key", get("/api/v1/containers/?label=%3Dx"), Invalid("value_error")),
        case("name filter of 300 characters", get(&format!("/api/v1/containers/?name={long}")), Invalid("too_long")),
        case("logs since=yesterday", get("/api/v1/containers/x/logs?since=yesterday"), Invalid("datetime_parsing")),
        case("logs until negative", get("/api/v1/containers/x/logs?until=-5"), Invalid("datetime_parsing")),
        case("logs stream=stdin", get("/api/v1/containers/x/logs?stream=stdin"), Invalid("enum")),
        case("logs timestamps=sometimes", get("/api/v1/containers/x/logs?timestamps=sometimes"), Invalid("bool_parsing")),
        case("stop timeout 301", http("POST", "/api/v1/containers/x/stop?timeout=301", &[("Authorization", &auth)], b""), Invalid("less_than_equal")),
        case("kill signal unknown", http("POST", "/api/v1/containers/x/kill?signal=SIGNOPE", &[("Authorization", &auth)], b""), Invalid("enum")),
        case("kill signal 65", http("POST", "/api/v1/containers/x/kill?signal=65", &[("Authorization", &auth)], b""), Invalid("enum")),
        case("kill signal with a NUL", http("POST", "/api/v1/containers/x/kill?signal=KILL%00", &[("Authorization", &auth)], b""), Invalid("enum")),
        case("log stream unknown parameter", stream("/api/v1/logs/ws/x?colour=red"), WsClose(1008, "\"colour\": Unknown query parameter")),
        case("events unknown filter", stream("/api/v1/events/ws?colour=red"), WsClose(1008, "\"colour\": Unknown query parameter")),
        case("events type not a Docker type", stream("/api/v1/events/ws?type=planet"), WsClose(1008, "\"type\": Input should be one of")),
        case("log stream tail negative", stream("/api/v1/logs/ws/x?tail=-5"), WsClose(1008, "\"tail\": Input should be greater than or equal to 0")),
        case("log stream=stdin", stream("/api/v1/logs/ws/x?stream=stdin"), WsClose(1008, "\"stream\": Input should be")),
        case("log stream since=yesterday", stream("/api/v1/logs/ws/x?since=yesterday"), WsClose(1008, "\"since\": Input should be")),
        case("events filter of 300 characters", stream(&format!("/api/v1/events/ws?container={long}")), WsClose(1008, "\"container\": At most 32 values")),
        case("events filter with 33 values", stream(&format!("/api/v1/events/ws?event={many}")), WsClose(1008, "\"event\": At most 32 values")),
    ]
}

/// Create bodies that must be refused before Docker hears of them (what
/// would reach it creates a container: none of these may).
#[rustfmt::skip]
fn create_bodies(keys: &Keys) -> Vec<Case> {
    let auth = format!("Bearer {}", keys.token);
    let post = |body: &str| http("POST", "/api/v1/containers/", &[("Authorization", &auth)], body.as_bytes());
    let host = "'privileged' gives the container access to the host and is refused; an operator can allow it with ALLOW_HOST_ACCESS=true";
    let nested = format!(r#"{{"image":"x","labels":{}1{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let big = format!(r#"{{"image":"x","env":{{"A":"{}"}}}}"#, "a".repeat(70 * 1024));
    vec![
        case("create body that is not JSON", post("image=alpine"), Invalid("json_invalid")),
        case("create body that is an array", post(r#"["alpine"]"#), Invalid("model_attributes_type")),
        case("create body that is empty", post(""), Invalid("missing")),
        case("create body of 10,000 nested arrays", post(&nested), Invalid("json_invalid")),
        case("create body over 64 KiB", post(&big), Detail(413, BODY_413)),
        case("create body with Docker's HostConfig", post(r#"{"image":"x","HostConfig":{"Privileged":true}}"#), Invalid("extra_forbidden")),
        case("create body with volumes", post(r#"{"image":"x","volumes":["/:/host"]}"#), Invalid("extra_forbidden")),
        case("create body without an image", post(r#"{"name":"x"}"#), Invalid("missing")),
        case("create image with a NUL", post(r#"{"image":"a\u0000b"}"#), Invalid("string_type")),
        case("create image with a traversal", post(r#"{"image":"../../info"}"#), Invalid("value_error")),
        case("create name with a slash", post(r#"{"image":"x","name":"../x"}"#), Invalid("value_error")),
        case("create env as a list", post(r#"{"image":"x","env":["A=1"]}"#), Invalid("dict_type")),
        case("create memory of 1e400", post(r#"{"image":"x","memory_limit":1e400}"#), Invalid("json_invalid")),
        case("create port past 65535", post(r#"{"image":"x","ports":["99999:80"]}"#), Invalid("value_error")),
        case("create cpu_shares of 2^63", post(r#"{"image":"x","cpu_shares":9223372036854775808}"#), Invalid("int_type")),
        case("create privileged", post(r#"{"image":"x","privileged":true}"#), Detail(403, host)),
        case("create binding the host's root", post(r#"{"image":"x","binds":["/:/host"]}"#), Detail(403, "'binds': the host path '/' is not under ALLOW_BIND_MOUNTS_FROM (none set); an operator can allow it there or with ALLOW_HOST_ACCESS=true")),
    ]
}

#[rustfmt::skip]
fn websocket_handshakes(keys: &Keys) -> Vec<Case> {
    let path = format!("/api/v1/events/ws?token={}", keys.token);
    let handshake = |extra: &str| {
        raw(format!(
            "GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{extra}\r\n"
        )
        .as_bytes())
    };
    let origin = vec![("Origin".to_string(), "https://evil.example".to_string())];
    vec![
        case("WebSocket key that is not 16 bytes", handshake("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"), Detail(400, "Missing or malformed Sec-WebSocket-Key")),
        case("WebSocket key missing", handshake("Sec-WebSocket-Version: 13\r\n"), Detail(400, "Missing or malformed Sec-WebSocket-Key")),
        case("WebSocket version 12", handshake("Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), Detail(400, "Unsupported Sec-WebSocket-Version; use 13")),
        case("plain GET on a stream route", http("GET", &path, &[], b""), Detail(426, "This endpoint speaks WebSocket only; send an Upgrade: websocket request")),
        case("upgrade to h2c on a stream route", http("GET", &path, &[("Connection", "Upgrade"), ("Upgrade", "h2c")], b""), Detail(426, "This endpoint speaks WebSocket only; send an Upgrade: websocket request")),
        case("POST on a stream route", http("POST", &path, &[], b""), Detail(405, "Method Not Allowed")),
        case("WebSocket from a foreign Origin", ws(&path, origin, None), Detail(403, "Origin not allowed")),
    ]
}

#[rustfmt::skip]
fn websocket_frames(keys: &Keys) -> Vec<Case> {
    let over = vec![b'a'; 64 * 1024 + 1];
    let mut fragments = frame(0x1, false, &[b'a'; 16 * 1024]);
    for _ in 0..3 {
        fragments.extend(frame(0x0, false, &[b'a'; 16 * 1024]));
    }
    fragments.extend(frame(0x0, true, b"a"));
    let mut unmasked = frame_header(0x1, true, false, 5);
    unmasked.extend_from_slice(b"hello");
    let mut rsv = frame(0x1, true, b"hello");
    rsv[0] |= 0x40;
    let rows: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("text message over the 64 KiB limit", frame(0x1, true, &over), WsClose(1009, "message too big (limit 64 KiB)")),
        ("binary message over the limit", frame(0x2, true, &over), WsClose(1009, "message too big (limit 64 KiB)")),
        ("frame header claiming 2^63 bytes", frame_header(0x1, true, true, 1 << 63), WsClose(1009, "message too big (limit 64 KiB)")),
        ("message over the limit in fragments", fragments, WsClose(1009, "message too big (limit 64 KiB)")),
        ("binary frame where text is expected", frame(0x2, true, b"\x00\x01\x02"), WsIgnored),
        ("text frame that is not JSON", frame(0x1, true, b"{not json"), WsIgnored),
        ("text frame with invalid UTF-8", frame(0x1, true, b"\xff\xfe"), WsClose(1007, "text message is not UTF-8")),
        ("unmasked client frame", unmasked, WsClose(1002, "protocol error: ")),
        ("reserved opcode", frame(0x3, true, b"x"), WsClose(1002, "protocol error: ")),
        ("reserved bits set", rsv, WsClose(1002, "protocol error: ")),
        ("ping over 125 bytes", frame(0x9, true, &[b'p'; 126]), WsClose(1002, "protocol error: ")),
        ("fragmented ping", frame(0x9, false, b"p"), WsClose(1002, "protocol error: ")),
        ("continuation with nothing to continue", frame(0x0, true, b"x"), WsClose(1002, "protocol error: ")),
        ("close frame with code 999", frame(0x8, true, &999u16.to_be_bytes()), WsClose(1002, "Protocol violation")),
    ];
    let path = format!("/api/v1/events/ws?token={}", keys.token);
    rows.into_iter()
        .map(|(what, bytes, expect)| {
            case(
                format!("WebSocket {what}"),
                ws(&path, Vec::new(), Some(bytes)),
                expect,
            )
        })
        .collect()
}

#[rustfmt::skip]
fn mcp_admission(keys: &Keys) -> Vec<Case> {
    let list = rpc_call("tools/list", json!({}));
    let with = |headers: &[(&str, &str)]| {
        let mut all = vec![
            ("Content-Type", "application/json"),
            ("Mcp-Session-Id", keys.session.as_str()),
        ];
        all.extend_from_slice(headers);
        http("POST", "/mcp", &all, list.as_bytes())
    };
    let key = format!("Bearer {MCP_KEY}");
    let huge = format!("Authorization: Bearer {}\r\n", "k".repeat(1 << 20));
    vec![
        case("MCP without a key", with(&[]), Detail(401, BAD_KEY)),
        case("MCP with a wrong key", with(&[("Authorization", "Bearer not-the-key-0123456789")]), Detail(401, BAD_KEY)),
        case("MCP with an empty bearer", with(&[("Authorization", "Bearer ")]), Detail(401, BAD_KEY)),
        case("MCP with a JWT instead of the key", with(&[("Authorization", &format!("Bearer {}", keys.token))]), Detail(401, BAD_KEY)),
        case("MCP with a 1 MB key", raw(format!("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n{huge}Content-Length: 2\r\n\r\n{{}}").as_bytes()), StatusOrClosed(431)),
        case("MCP from a foreign Origin", with(&[("Authorization", &key), ("Origin", "https://evil.example")]), Detail(403, "Origin not allowed")),
        case("MCP with a foreign Host", with(&[("Authorization", &key), ("Host", "evil.example")]), Detail(403, "Host not allowed")),
        case("MCP stream without a session", http("GET", "/mcp", &[("Authorization", &key)], b""), Detail(400, "Missing Mcp-Session-Id header: GET /mcp opens a session's stream")),
        case("MCP stream of an unknown session", http("GET", "/mcp", &[("Authorization", &key), ("Mcp-Session-Id", &"0".repeat(32))], b""), Detail(404, "Could not find session")),
        case("MCP legacy message without a session", http("POST", "/mcp/messages/", &[("Authorization", &key)], list.as_bytes()), Detail(400, "session_id is required")),
        case("MCP legacy message for a traversal session", http("POST", "/mcp/messages/?session_id=..%2F..%2Fx", &[("Authorization", &key)], list.as_bytes()), Detail(400, "Invalid session ID")),
        case("MCP legacy message for an unknown session", http("POST", &format!("/mcp/messages/?session_id={}", "0".repeat(32)), &[("Authorization", &key)], list.as_bytes()), Detail(404, "Could not find session")),
    ]
}

#[rustfmt::skip]
fn mcp_bodies(keys: &Keys) -> Vec<Case> {
    let message = |extra: &str| format!(r#"{{"jsonrpc":"2.0","method":"tools/list"{extra}}}"#);
    let with_id = |id: &str| message(&format!(r#","id":{id}"#));
    let batch = |n: usize| format!("[{}]", vec![with_id("1"); n].join(","));
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"a":{}1{}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let over = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"pad":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let bodies: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("not JSON", b"hello".to_vec(), Rpc(400, -32700)),
        ("empty", Vec::new(), Rpc(400, -32700)),
        ("invalid UTF-8", b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}".to_vec(), Rpc(400, -32700)),
        ("truncated JSON", br#"{"jsonrpc":"2.0","id":1,"#.to_vec(), Rpc(400, -32700)),
        ("over 256 KiB", over.into_bytes(), Detail(413, MCP_BODY_413)),
        ("10,000 nested arrays", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), Rpc(400, -32600)),
        ("params nested 100 deep", deep.into_bytes(), Rpc(400, -32600)),
        ("empty batch", b"[]".to_vec(), Rpc(400, -32600)),
        ("batch of 33", batch(33).into_bytes(), Rpc(400, -32600)),
        ("batch inside a batch", format!("[{}]", batch(2)).into_bytes(), Rpc(200, -32600)),
        ("batch of numbers", b"[1,2,3]".to_vec(), Rpc(200, -32600)),
        ("a bare string", br#""tools/list""#.to_vec(), Rpc(400, -32600)),
        ("jsonrpc 1.0", br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec(), Rpc(400, -32600)),
        ("jsonrpc missing", br#"{"id":1,"method":"tools/list"}"#.to_vec(), Rpc(400, -32600)),
        ("jsonrpc as a number", br#"{"jsonrpc":2.0,"id":1,"method":"tools/list"}"#.to_vec(), Rpc(400, -32600)),
        ("method a number", br#"{"jsonrpc":"2.0","id":1,"method":7}"#.to_vec(), Rpc(400, -32600)),
        ("params a string", br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}"#.to_vec(), Rpc(400, -32600)),
        ("id true", with_id("true").into_bytes(), Rpc(400, -32600)),
        ("id an object", with_id(r#"{"a":1}"#).into_bytes(), Rpc(400, -32600)),
        ("id an array", with_id("[1]").into_bytes(), Rpc(400, -32600)),
        ("id null", with_id("null").into_bytes(), Rpc(400, -32600)),
        ("id past 64 bits", with_id("18446744073709551616").into_bytes(), Echo("18446744073709551616")),
        ("id 1e400", with_id("1e400").into_bytes(), Echo("1e400")),
        ("id -0.0", with_id("-0.0").into_bytes(), Echo("-0.0")),
        ("id a 1 KB string", with_id(&format!("\"{}\"", "i".repeat(1024))).into_bytes(), Echo("\"iiii")),
        ("unknown method", br#"{"jsonrpc":"2.0","id":1,"method":"rm -rf /"}"#.to_vec(), Rpc(200, -32601)),
        ("unknown tool", rpc_call("tools/call", json!({"name": "docker_rm", "arguments": {}})).into_bytes(), Rpc(200, -32602)),
        ("tool arguments a string", rpc_call("tools/call", json!({"name": "get_container", "arguments": "web"})).into_bytes(), Rpc(200, -32602)),
        ("tool container_id a number", rpc_call("tools/call", json!({"name": "get_container", "arguments": {"container_id": 7}})).into_bytes(), ToolError("must be a non-empty string")),
        ("resource uri a number", rpc_call("resources/read", json!({"uri": 7})).into_bytes(), Rpc(200, -32602)),
        ("resource uri missing", rpc_call("resources/read", json!({})).into_bytes(), Rpc(200, -32602)),
        ("resource uri a traversal", rpc_call("resources/read", json!({"uri": "docker://containers/../../images/json"})).into_bytes(), Rpc(200, -32002)),
        ("resource uri with a query", rpc_call("resources/read", json!({"uri": "docker://containers/x?all=1/logs"})).into_bytes(), Rpc(200, -32002)),
        ("resource uri of 10 KB", rpc_call("resources/read", json!({"uri": format!("docker://containers/{}", "a".repeat(10_240))})).into_bytes(), Rpc(200, -32002)),
        ("resource uri of another scheme", rpc_call("resources/read", json!({"uri": "file:///etc/shadow"})).into_bytes(), Rpc(200, -32002)),
        ("subscription to a traversal", rpc_call("resources/subscribe", json!({"uri": "docker://containers/%2e%2e/logs"})).into_bytes(), Rpc(200, -32002)),
        ("resources cursor forged", rpc_call("resources/list", json!({"cursor": "YWZ0ZXI"})).into_bytes(), Rpc(200, -32602)),
        ("resources cursor a number", rpc_call("resources/list", json!({"cursor": 3})).into_bytes(), Rpc(200, -32602)),
        ("prompt unknown", rpc_call("prompts/get", json!({"name": "rm_everything"})).into_bytes(), Rpc(200, -32602)),
        ("prompt arguments a string", rpc_call("prompts/get", json!({"name": "diagnose_container", "arguments": "web"})).into_bytes(), Rpc(200, -32602)),
        ("prompt container_id a traversal", rpc_call("prompts/get", json!({"name": "diagnose_container", "arguments": {"container_id": "../../images/json"}})).into_bytes(), Rpc(200, -32602)),
        ("answering a question never asked", br#"{"jsonrpc":"2.0","id":"x","result":{"action":"accept","content":{"confirm":true}}}"#.to_vec(), StatusOrClosed(202)),
        ("answering question 1e400 with an error", br#"{"jsonrpc":"2.0","id":1e400,"error":{"code":1,"message":"no"}}"#.to_vec(), StatusOrClosed(202)),
    ];
    bodies
        .into_iter()
        .map(|(what, body, expect)| case(format!("MCP body {what}"), mcp(keys, &body), expect))
        .collect()
}

/// Pull bodies no image reference or credential fits: refused before
/// Docker is asked (the recorder would show `images/create`), and a
/// password given with them never comes back.
#[rustfmt::skip]
fn pull_bodies(keys: &Keys) -> Vec<Case> {
    let auth = format!("Bearer {}", keys.token);
    let pull = |body: Value| {
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        http("POST", "/api/v1/images/pull", &headers, body.to_string().as_bytes())
    };
    let tool = |args: Value| mcp(keys, rpc_call("tools/call", json!({"name": "pull_image", "arguments": args})).as_bytes());
    let with_password = json!({"username": "admin", "password": PASSWORD});
    vec![
        case("pull body that is not JSON", http("POST", "/api/v1/images/pull", &[("Authorization", &auth)], b"image=alpine"), Invalid("json_invalid")),
        case("pull with an unknown field", pull(json!({"image": "alpine", "fromSrc": "-"})), Invalid("extra_forbidden")),
        case("pull image that climbs paths", pull(json!({"image": "../../containers/json"})), Invalid("value_error")),
        case("pull image smuggling a query", pull(json!({"image": "alpine?fromSrc=-"})), Invalid("value_error")),
        case("pull tag smuggling a query", pull(json!({"image": "alpine", "tag": "x&fromSrc=-"})), Invalid("value_error")),
        case("pull image of 1 KB", pull(json!({"image": "a".repeat(1024)})), Invalid("value_error")),
        case("pull image with a NUL", pull(json!({"image": "alpine\u{0}"})), Invalid("value_error")),
        case("pull auth that is a string", pull(json!({"image": "alpine", "auth": "admin:x"})), Invalid("model_attributes_type")),
        case("pull with a password and a bad image", pull(json!({"image": "Bad Image", "auth": with_password})), Invalid("value_error")),
        case("pull with a password in an unknown field", pull(json!({"image": "alpine", "auth": {"username": "a", "password": "b", "pw": PASSWORD}})), Invalid("extra_forbidden")),
        case("MCP pull_image with a numeric image", tool(json!({"image": 7})), ToolError("Input should be a valid string")),
        case("MCP pull_image that climbs paths", tool(json!({"image": "../../info", "auth": with_password})), ToolError("is not an image name")),
    ]
}

// Constructors.

fn case(name: impl Into<String>, send: Send, expect: Expect) -> Case {
    Case {
        name: name.into(),
        send,
        expect,
    }
}

fn raw(bytes: &[u8]) -> Send {
    Send::Bytes(bytes.to_vec())
}

fn trickle(first: &str, then: &str) -> Send {
    Send::Trickle {
        first: first.as_bytes().to_vec(),
        then: then.as_bytes().to_vec(),
    }
}

/// A complete request that asks to close the connection after its answer.
fn http(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Send {
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str("Host: 127.0.0.1\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Send::Bytes(bytes)
}

/// A WebSocket upgrade request for `path`, as raw text, with `extra` headers.
fn upgrade(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

fn ws(path: &str, headers: Vec<(String, String)>, frame: Option<Vec<u8>>) -> Send {
    Send::Ws {
        path: path.to_string(),
        headers,
        frame,
    }
}

/// `body` posted to `/mcp` with the key, in the table's session.
fn mcp(keys: &Keys, body: &[u8]) -> Send {
    let key = format!("Bearer {MCP_KEY}");
    let headers = [
        ("Authorization", key.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("Mcp-Session-Id", keys.session.as_str()),
    ];
    http("POST", "/mcp", &headers, body)
}

fn rpc_call(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

/// `header.claims.` with no signature.
fn unsigned(header: &str, claims: &str) -> String {
    format!("{}.{}.", B64.encode(header), B64.encode(claims))
}

/// `header.claims.mac`, the MAC HMAC-SHA-256 keyed with `key`, whatever
/// the header claims.
fn hs(header: &str, claims: &str, key: &[u8]) -> String {
    use hmac::Mac;
    let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}
