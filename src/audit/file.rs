//! The audit file (`AUDIT_LOG`): lines wait in a bounded queue and one
//! blocking task appends them, so an action never waits on the disk. A
//! line that finds the queue full is dropped and counted; failed writes are
//! counted too. Both are reported on stderr, at most once every
//! [`REPORT_EVERY`] while trouble lasts, and once more at shutdown for
//! whatever was left unreported.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Lines that may wait for the writer (each at most about 1 KiB).
pub const QUEUE: usize = 1024;
/// Least time between two reports of trouble.
const REPORT_EVERY: Duration = Duration::from_secs(5);
/// How long shutdown waits for queued lines to be written.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The queue between recorders and the writer.
#[derive(Default)]
struct Shared {
    queue: Mutex<Backlog>,
    /// Signalled when lines arrive, the queue closes, or the writer is done.
    changed: Condvar,
}

#[derive(Default)]
struct Backlog {
    lines: Vec<String>,
    /// Lines that found the queue full.
    dropped: u64,
    /// No more lines will come: the writer finishes what is queued.
    closed: bool,
    /// The writer has finished.
    done: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Backlog> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, line: String) {
        let mut state = self.lock();
        if state.closed || state.lines.len() >= QUEUE {
            state.dropped += 1;
            return;
        }
        state.lines.push(line);
        self.changed.notify_all();
    }

    /// Closes the queue; returns it still locked.
    fn close(&self) -> MutexGuard<'_, Backlog> {
        let mut state = self.lock();
        state.closed = true;
        self.changed.notify_all();
        state
    }

    /// The writer: appends lines as they come until the queue closes and is
    /// empty, reporting trouble through `say`.
    fn write_all<W: Write>(&self, mut out: W, trouble: &mut Trouble, mut say: impl FnMut(String)) {
        loop {
            let (lines, dropped, closed) = {
                let state = self.lock();
                let mut state = self
                    .changed
                    .wait_while(state, |s| s.lines.is_empty() && !s.closed)
                    .unwrap_or_else(|e| e.into_inner());
                let lines = std::mem::take(&mut state.lines);
                (lines, std::mem::take(&mut state.dropped), state.closed)
            };
            for line in lines {
                if let Err(e) = out.write_all(line.as_bytes()) {
                    trouble.lost += 1;
                    trouble.error = e.to_string();
                }
            }
            trouble.dropped += dropped;
            let report = if closed {
                trouble.take()
            } else {
                trouble.due(Instant::now())
            };
            if let Some(report) = report {
                say(report);
            }
            if closed {
                break;
            }
        }
        self.lock().done = true;
        self.changed.notify_all();
    }
}

/// Appends queued lines to the file from a blocking task of its own, which
/// ends when the sink is closed or dropped.
pub struct FileSink(Arc<Shared>);

impl FileSink {
    /// Starts the writer for `file` (`name` is its path, for reports).
    pub fn start(name: String, file: Arc<File>) -> FileSink {
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        tokio::task::spawn_blocking(move || {
            writer.write_all(&*file, &mut Trouble::new(name), |m| eprintln!("{m}"));
        });
        FileSink(shared)
    }

    /// Queues one line (ending in `\n`), or counts it when the queue is full.
    pub fn push(&self, line: String) {
        self.0.push(line);
    }

    /// Closes the queue and waits (at most [`CLOSE_WAIT`]) until what it
    /// held is written.
    pub fn close(&self) {
        let state = self.0.close();
        let waited = self
            .0
            .changed
            .wait_timeout_while(state, CLOSE_WAIT, |s| !s.done);
        if waited.is_ok_and(|(_, w)| w.timed_out()) {
            eprintln!("docker-agent: audit file: lines still queued at exit were not written");
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        drop(self.0.close());
    }
}

/// Lines lost since the last report, and when that was.
struct Trouble {
    name: String,
    lost: u64,
    error: String,
    dropped: u64,
    reported: Option<Instant>,
}

impl Trouble {
    fn new(name: String) -> Trouble {
        Trouble {
            name,
            lost: 0,
            error: String::new(),
            dropped: 0,
            reported: None,
        }
    }

    /// A report, unless there is nothing to say or the last was too recent.
    fn due(&mut self, now: Instant) -> Option<String> {
        if self
            .reported
            .is_some_and(|at| now.duration_since(at) < REPORT_EVERY)
        {
            return None;
        }
        let report = self.take()?;
        self.reported = Some(now);
        Some(report)
    }

    /// Says what was lost since the last report, and starts counting afresh.
    fn take(&mut self) -> Option<String> {
        if self.lost == 0 && self.dropped == 0 {
            return None;
        }
        let report = format!(
            "docker-agent: audit file {}: {} line(s) not written ({}), {} dropped (queue full)",
            self.name, self.lost, self.error, self.dropped
        );
        (self.lost, self.dropped) = (0, 0);
        Some(report)
    }
}

#[cfg(test)]
mod tests;
