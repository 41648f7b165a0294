//! The audit trail: who did what, from where, through which surface, and
//! how it ended — one JSON object per record.
//!
//! Every record goes to the log under the target [`TARGET`] (`audit`, at
//! `info`, so `RUST_LOG` can route it) and, with `AUDIT_LOG`, is also
//! appended to that file as the same compact line, written by a blocking
//! task of its own through a bounded queue ([`file`]) so recording never
//! waits on the disk. The trail records every login and every refused credential:
//! a wrong login, a missing, invalid or expired bearer token, a WebSocket
//! upgrade refused for its `Origin` or token, an MCP request refused for
//! its `Origin`, `Host` or key. Each is recorded by one call where that
//! refusal is decided.
//!
//! - [`record`]: the record, its vocabulary, and the request context.
//! - [`file`]: the `AUDIT_LOG` writer.

mod file;
mod record;

pub use record::{
    Action, Confirmation, Context, MAX_TEXT, Outcome, Pair, Record, Subject, Surface,
};

use crate::error::Error;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use crate::logging::AUDIT_TARGET as TARGET;

/// Where records go: the log, and the `AUDIT_LOG` file when one is set.
pub struct Audit {
    file: Option<file::FileSink>,
}

impl Audit {
    /// Starts the file's writer, if there is a file (inside a Tokio runtime).
    pub fn new(log: Option<&AuditLog>) -> Audit {
        let file = log.map(|log| {
            let path = log.path.display().to_string();
            if let Some(mode) = log.loose_mode() {
                log::warn!(path = path.as_str();
                    "AUDIT_LOG is readable or writable by other users (mode {mode:o}); restrict it with chmod 600");
            }
            file::FileSink::start(path, log.file.clone())
        });
        Audit { file }
    }

    /// Writes `record` to the log and queues its JSON line for the file.
    pub fn record(&self, record: Record) {
        if record.result == Outcome::Denied {
            crate::counters::auth_failure(record.action.credential());
        }
        with_entry(&record, |entry| {
            if log::log_enabled!(target: TARGET, log::Level::Info) {
                log::logger().log(entry);
            }
            if let Some(file) = &self.file {
                file.push(line(entry));
            }
        });
    }

    /// Records that `e` turned away a caller who named no one.
    pub fn refused(&self, ctx: Option<&Context>, surface: Surface, action: Action, e: &Error) {
        self.record(Record::new(ctx, surface, action, Subject::Anonymous).refusal(e));
    }

    /// Writes what is still queued for the file (at shutdown; bounded wait).
    pub fn close(&self) {
        if let Some(file) = &self.file {
            file.close();
        }
    }
}

/// Runs `f` on `record` as a log record: `info`, target [`TARGET`],
/// message `audit`, the fields as key-values.
fn with_entry<R>(record: &Record, f: impl FnOnce(&log::Record) -> R) -> R {
    let pairs = record.pairs();
    f(&log::Record::builder()
        .args(format_args!("audit"))
        .level(log::Level::Info)
        .target(TARGET)
        .key_values(&pairs)
        .build())
}

/// The JSON line of a log record, the same whatever `DEBUG` says.
fn line(entry: &log::Record) -> String {
    let mut line = crate::logging::json_line(entry);
    line.push('\n');
    line
}

/// The audit file, open for appending.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
    pub file: Arc<File>,
    /// Permission bits the file had when opened.
    pub mode: u32,
}

impl AuditLog {
    /// The file's mode when other users may read or write it.
    pub fn loose_mode(&self) -> Option<u32> {
        (self.mode & 0o077 != 0).then_some(self.mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::{Duration, Instant};

    fn json(record: &Record) -> (String, Value) {
        let text = with_entry(record, line);
        let value = serde_json::from_str(&text).unwrap();
        (text, value)
    }

    #[test]
    fn a_record_is_one_compact_json_line() {
        let ctx = Context::new(
            "req-1".into(),
            "2001:db8::7".parse().unwrap(),
            Instant::now() - Duration::from_millis(3),
        );
        let r = Record::new(
            Some(&ctx),
            Surface::Ws,
            Action::StreamOpen,
            Subject::Anonymous,
        )
        .refusal(&Error::Forbidden("Origin not allowed"));
        let (text, v) = json(&r);
        assert!(text.starts_with(r#"{"time":""#), "{text}");
        assert_eq!(text.find('\n'), Some(text.len() - 1), "{text}");
        let fields = v.as_object().unwrap();
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "action",
                "client",
                "duration_ms",
                "level",
                "message",
                "reason",
                "request_id",
                "result",
                "subject",
                "surface",
                "target",
                "time"
            ]
        );
        assert_eq!(v["target"], "audit");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["request_id"], "req-1");
        assert_eq!(v["client"], "2001:db8::7");
        assert_eq!(v["surface"], "ws");
        assert_eq!(v["action"], "stream.open");
        assert_eq!(v["result"], "denied");
        assert_eq!(v["reason"], "Origin not allowed");
        assert!(v["duration_ms"].as_f64().unwrap() >= 3.0, "{v}");
        let time = v["time"].as_str().unwrap();
        assert!(crate::clock::parse_rfc3339(time).is_some(), "{time}");
    }

    #[test]
    fn client_text_cannot_forge_a_second_line() {
        let forged = "web\n{\"action\":\"login\",\"result\":\"ok\"}\r\u{2028}\"}";
        let subject = Subject::User(forged.into());
        let r = Record::new(
            None,
            Surface::Rest,
            Action::Op("container.restart"),
            subject,
        )
        .container(forged, Some(forged));
        let (text, v) = json(&r);
        assert!(!text.trim_end().contains(['\n', '\r']), "{text}");
        assert_eq!(v["container_name"], forged);
        assert_eq!(v["container_id"], forged);
        assert_eq!(v["subject"], format!("user:{forged}"));
    }
}
