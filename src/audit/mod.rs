//! The audit trail: who did what, from where, through which surface, and
//! how it ended — one JSON object per record.
//!
//! Every record goes to the log under the target [`TARGET`] (`audit`, at
//! `info`, so `RUST_LOG` can route it) and, with `AUDIT_LOG`, is also
//! appended to that file as one compact line, written by a thread of its
//! own through a bounded queue ([`file`]) so recording never waits on the
//! disk. Today the trail records every login and every refused credential:
//! a wrong login, a missing, invalid or expired bearer token, a WebSocket
//! upgrade refused for its `Origin` or token, an MCP request refused for
//! its `Origin`, `Host` or key. Each is recorded by one call where that
//! refusal is decided.
//!
//! - [`record`]: the record, its vocabulary, and the request context.
//! - [`file`]: the `AUDIT_LOG` writer.

mod file;
mod record;

pub use record::{Action, Context, Outcome, Record, Subject, Surface};

use crate::config::AuditLog;
use crate::error::Error;
use log::kv::{self, VisitSource};
use serde_json::{Map, Value};

/// The log target audit records are written under.
pub const TARGET: &str = "audit";

/// Where records go: the log, and the `AUDIT_LOG` file when one is set.
pub struct Audit {
    file: Option<file::FileSink>,
}

impl Audit {
    pub fn new(log: Option<&AuditLog>) -> Audit {
        let file = log.and_then(|log| {
            if let Some(mode) = log.loose_mode() {
                log::warn!(path = log.path.display().to_string().as_str(), mode = format!("{mode:o}").as_str();
                    "AUDIT_LOG is readable or writable by other users; restrict it with chmod 600");
            }
            file::FileSink::start(log.path.display().to_string(), log.file.clone())
        });
        Audit { file }
    }

    /// Writes `record` to the log and queues it for the file.
    pub fn record(&self, record: Record) {
        let Ok(Value::Object(fields)) = serde_json::to_value(&record) else {
            return;
        };
        emit(&fields);
        if let Some(file) = &self.file {
            let mut line = Value::Object(fields).to_string();
            line.push('\n');
            file.push(line);
        }
    }

    /// Records that `e` turned away a caller who named no one.
    pub fn refused(&self, ctx: &Context, surface: Surface, action: Action, e: &Error) {
        self.record(ctx.record(surface, action, Subject::Anonymous).refusal(e));
    }

    /// Writes what is still queued for the file (at shutdown; bounded wait).
    pub async fn close(&self) {
        if let Some(file) = &self.file {
            file.close().await;
        }
    }
}

/// A record's fields as log key-values. `time` is left to the logger's own
/// stamp and empty fields are left out.
struct Fields<'a>(&'a Map<String, Value>);

impl kv::Source for Fields<'_> {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
        for (key, value) in self.0.iter().filter(|(k, _)| *k != "time") {
            let value = match value {
                Value::String(s) => kv::Value::from(s.as_str()),
                Value::Number(n) => kv::Value::from(n.as_f64().unwrap_or_default()),
                _ => continue,
            };
            visitor.visit_pair(kv::Key::from(key.as_str()), value)?;
        }
        Ok(())
    }
}

fn emit(fields: &Map<String, Value>) {
    if log::log_enabled!(target: TARGET, log::Level::Info) {
        log::logger().log(
            &log::Record::builder()
                .args(format_args!("audit"))
                .level(log::Level::Info)
                .target(TARGET)
                .key_values(&Fields(fields))
                .build(),
        );
    }
}
