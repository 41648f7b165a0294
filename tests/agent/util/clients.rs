//! Clients independent of the tests' own HTTP code: `curl`, and the
//! agent's `healthcheck` subcommand as an orchestrator runs it.

use std::path::Path;
use std::process::Command;

/// `curl -s` with a 20 s limit: (exit code, body).
pub fn curl(args: &[&str]) -> (i32, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), body)
}

/// The body of a login at the agent at `base` as `admin` with `password`.
pub fn curl_login(base: &str, password: &str) -> String {
    curl(&[
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-d",
        &format!(r#"{{"username":"admin","password":"{password}"}}"#),
    ])
    .1
}

/// The HTTP status of a POST to the agent's `/mcp` at `base` with `key`.
pub fn mcp_status(base: &str, key: &str) -> String {
    curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        &format!("{base}/mcp"),
        "-H",
        &format!("Authorization: Bearer {key}"),
        "-d",
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    ])
    .1
}

/// Runs `docker-agent healthcheck` in `dir` against `host` and `port`:
/// (exit code, stderr).
pub fn healthcheck(dir: &Path, host: &str, port: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_docker-agent"))
        .arg("healthcheck")
        .current_dir(dir)
        .env_clear()
        .env("HOST", host)
        .env("PORT", port)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}
