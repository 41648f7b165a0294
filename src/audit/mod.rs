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
mod tests;
