//! Log output through `log` + `env_logger`: one JSON object per line in
//! production (`time`, `level`, `message`, then the record's key-values —
//! for requests `request_id`, `method`, `path`, `status`, `duration_ms`,
//! `client`), readable lines with `DEBUG=true` (coloured only when stdout
//! is a terminal and `NO_COLOR` is unset, so files and pipes get plain text).
//! Every value a readable line shows is escaped ([`escaped`]): a newline, a
//! terminal escape code or a bidirectional override in a container name or
//! a request cannot start a second line or repaint the terminal; JSON lines
//! are escaped by serde_json.
//! Audit records ([`crate::audit`]) come through here too, at `info` under
//! the target `audit`, with their fields as key-values.
//!
//! Nothing secret reaches this module: requests are logged by path only
//! (never the query string, where `token=` and `api_key=` travel), and no
//! header or body is ever logged. Other crates log at most at `info`
//! whatever `RUST_LOG` says: at `debug`/`trace` the WebSocket and HTTP
//! libraries would write whole frames and requests (container log lines,
//! client messages, tokens in query strings).

use log::kv::{self, VisitSource};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// Installs the logger (once; later calls are ignored).
pub fn init(debug: bool, mcp_debug: bool) {
    let color = debug && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let mut builder = env_logger::Builder::new();
    builder.filter_level(if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    });
    if mcp_debug {
        builder.filter_module("docker_agent::mcp", log::LevelFilter::Debug);
    }
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    builder.target(env_logger::Target::Stdout);
    builder.format(move |buf, record| {
        let line = if debug {
            pretty(record, color)
        } else {
            json_line(record)
        };
        writeln!(buf, "{line}")
    });
    let logger = Capped(builder.build());
    let max = logger.0.filter();
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(max);
    }
}

/// The log target audit records are written under ([`crate::audit`]).
pub const AUDIT_TARGET: &str = "audit";

/// Most verbose level a record from another crate may have.
const FOREIGN_MAX: log::Level = log::Level::Info;

/// The configured logger, with other crates' records capped at [`FOREIGN_MAX`].
struct Capped(env_logger::Logger);

/// Whether a record from `target` at `level` may be written at all.
fn within_cap(target: &str, level: log::Level) -> bool {
    let ours = target == "access"
        || target == AUDIT_TARGET
        || target.split("::").next() == Some("docker_agent");
    ours || level <= FOREIGN_MAX
}

impl log::Log for Capped {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        within_cap(metadata.target(), metadata.level()) && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if within_cap(record.target(), record.level()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// One access-log record for a finished request.
pub fn access(
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    elapsed: Duration,
    client: IpAddr,
) {
    let duration_ms = (elapsed.as_secs_f64() * 1e5).round() / 100.0;
    log::info!(
        target: "access",
        request_id = request_id,
        method = method,
        path = path,
        status = status,
        duration_ms = duration_ms,
        client = client.to_string().as_str();
        "request"
    );
}

struct Fields(Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let v = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(f) = value.to_f64() {
            Value::from(f)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::from(value.to_string())
        };
        self.0.insert(key.to_string(), v);
        Ok(())
    }
}

fn fields(record: &log::Record) -> Map<String, Value> {
    let mut f = Fields(Map::new());
    let _ = record.key_values().visit(&mut f);
    f.0
}

/// A record as one JSON object: `time`, `level`, `target`, `message`, then
/// its key-values.
pub(crate) fn json_line(record: &log::Record) -> String {
    let time = crate::clock::format_rfc3339_millis(SystemTime::now());
    let mut line = format!(
        r#"{{"time":"{time}","level":"{}","target":{},"message":{}"#,
        record.level(),
        Value::from(record.target()),
        Value::from(record.args().to_string())
    );
    for (k, v) in fields(record) {
        line.push_str(&format!(",{}:{v}", Value::from(k)));
    }
    line.push('}');
    line
}

fn pretty(record: &log::Record, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let level_color = match record.level() {
        log::Level::Error => "31",
        log::Level::Warn => "33",
        log::Level::Info => "32",
        _ => "36",
    };
    let time = crate::clock::format_rfc3339_millis(SystemTime::now());
    let mut kv = fields(record);
    let message = if record.target() == "access" {
        let take = |kv: &mut Map<String, Value>, k: &str| {
            kv.remove(k)
                .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                .unwrap_or_default()
        };
        let (m, p, s) = (
            take(&mut kv, "method"),
            take(&mut kv, "path"),
            take(&mut kv, "status"),
        );
        let ms = take(&mut kv, "duration_ms");
        format!(
            "{} {} {} {ms}ms",
            escaped(&m),
            escaped(&p),
            paint("1", &escaped(&s))
        )
    } else {
        escaped(&record.args().to_string())
    };
    let extras: Vec<String> = kv
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().map_or(v.to_string(), str::to_string);
            format!("{}={}", paint("2", &escaped(k)), escaped(&v))
        })
        .collect();
    format!(
        "{} {:5} {message} {}",
        paint("2", &time),
        paint(level_color, record.level().as_str()),
        extras.join(" ")
    )
    .trim_end()
    .to_string()
}

/// `text` with what could forge or hide part of a readable line written
/// as escapes: control characters (`\n`, `\u{1b}`, ...), bidirectional
/// overrides and isolates, and the backslash itself, so an escape in the
/// output always means one in the value.
pub fn escaped(text: &str) -> String {
    let bidi = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_debug());
        } else if bidi(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_lines_escape_what_could_forge_a_line() {
        let name = "x\n2026-12-06T00:00:00.000Z INFO  audit action=container.create result=ok\u{1b}[2J\u{202e}";
        let kvs: [(&str, kv::Value); 2] =
            [("container_name", name.into()), ("a\rb", "c\\n".into())];
        let r = log::Record::builder()
            .args(format_args!("audit\nforged"))
            .level(log::Level::Info)
            .target("audit")
            .key_values(&kvs)
            .build();
        let line = pretty(&r, false);
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("INFO  audit\\nforged "), "{line}");
        assert!(
            line.contains("container_name=x\\n2026-12-06T00:00:00.000Z INFO  audit action=container.create result=ok\\u{1b}[2J\\u{202e}"),
            "{line}"
        );
        assert!(line.contains("a\\rb=c\\\\n"), "{line}");
        assert_eq!(escaped("plain, été"), "plain, été");
    }

    fn record_json(f: impl FnOnce(&mut dyn FnMut(&log::Record))) -> Value {
        let mut out = Value::Null;
        f(&mut |r| out = serde_json::from_str(&json_line(r)).unwrap());
        out
    }

    #[test]
    fn json_lines_carry_key_values() {
        let kvs: [(&str, kv::Value); 3] = [
            ("status", 200u16.into()),
            ("path", "/x".into()),
            ("duration_ms", 1.5f64.into()),
        ];
        let v = record_json(|sink| {
            sink(
                &log::Record::builder()
                    .args(format_args!("request"))
                    .level(log::Level::Info)
                    .target("access")
                    .key_values(&kvs)
                    .build(),
            )
        });
        assert_eq!(v["message"], "request");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["status"], 200);
        assert_eq!(v["path"], "/x");
        assert_eq!(v["duration_ms"], 1.5);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn other_crates_are_capped_at_info() {
        use log::Level::{Debug, Info, Trace, Warn};
        assert!(within_cap("docker_agent::ws::hub", Trace));
        assert!(within_cap("docker_agent", Debug));
        assert!(within_cap("access", Info));
        assert!(within_cap("audit", Info) && within_cap("audit", Trace));
        for target in ["tungstenite::protocol", "hyper::proto::h1", "mio", "h2"] {
            assert!(within_cap(target, Info) && within_cap(target, Warn));
            assert!(!within_cap(target, Debug) && !within_cap(target, Trace));
        }
        assert!(!within_cap("docker_agent_evil", Trace));
    }

    #[test]
    fn pretty_access_lines_read_naturally() {
        let kvs: [(&str, kv::Value); 4] = [
            ("method", "GET".into()),
            ("path", "/api/v1/healthz".into()),
            ("status", 200u16.into()),
            ("duration_ms", 0.5f64.into()),
        ];
        let r = log::Record::builder()
            .args(format_args!("request"))
            .level(log::Level::Info)
            .target("access")
            .key_values(&kvs)
            .build();
        let line = pretty(&r, false);
        assert!(
            line.contains("INFO  GET /api/v1/healthz 200 0.5ms"),
            "{line}"
        );
    }
}
