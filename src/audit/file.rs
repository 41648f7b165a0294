//! The audit file (`AUDIT_LOG`): lines wait in a bounded queue and one
//! thread appends them, so an action never waits on the disk. A full queue
//! drops the line and counts it; failed writes are counted too. Both are
//! reported on stderr, at most once every [`REPORT_EVERY`] while trouble
//! lasts, and once more at shutdown for whatever was left unreported.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Lines waiting for the writer (each at most about 1 KiB).
pub const QUEUE: usize = 1024;
/// Least time between two reports of trouble.
const REPORT_EVERY: Duration = Duration::from_secs(5);
/// How long shutdown waits for queued lines to be written.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The producers' end: never blocks; a line that does not fit is counted.
struct Queue {
    lines: Mutex<Option<mpsc::Sender<String>>>,
    dropped: Arc<AtomicU64>,
}

impl Queue {
    fn push(&self, line: String) {
        let queued = lock(&self.lines)
            .as_ref()
            .is_some_and(|q| q.try_send(line).is_ok());
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Appends queued lines to the file from a thread of its own.
pub struct FileSink {
    queue: Queue,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl FileSink {
    /// Starts the writer for `file` (`name` is its path, for reports).
    pub fn start(name: String, file: Arc<File>) -> Option<FileSink> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let counted = dropped.clone();
        let spawned = std::thread::Builder::new()
            .name("audit-file".into())
            .spawn(move || {
                let mut trouble = Trouble::new(name);
                drain(rx, &*file, &counted, &mut trouble, |m| eprintln!("{m}"));
            });
        match spawned {
            Ok(writer) => Some(FileSink {
                queue: Queue {
                    lines: Mutex::new(Some(tx)),
                    dropped,
                },
                writer: Mutex::new(Some(writer)),
            }),
            Err(e) => {
                eprintln!("docker-agent: audit file: cannot start its writer ({e}); logging only");
                None
            }
        }
    }

    /// Queues one line (ending in `\n`).
    pub fn push(&self, line: String) {
        self.queue.push(line);
    }

    /// Ends the queue and waits (bounded) until its lines are written.
    pub async fn close(&self) {
        lock(&self.queue.lines).take();
        let Some(writer) = lock(&self.writer).take() else {
            return;
        };
        let joined = tokio::task::spawn_blocking(move || writer.join());
        if tokio::time::timeout(CLOSE_WAIT, joined).await.is_err() {
            eprintln!("docker-agent: audit file: lines still queued at exit were not written");
        }
    }
}

/// Writes every line until the queue ends, reporting trouble through `say`.
fn drain<W: Write>(
    mut lines: mpsc::Receiver<String>,
    mut out: W,
    dropped: &AtomicU64,
    trouble: &mut Trouble,
    mut say: impl FnMut(String),
) {
    while let Some(line) = lines.blocking_recv() {
        if let Err(e) = out.write_all(line.as_bytes()) {
            trouble.lost += 1;
            trouble.error = e.to_string();
        }
        trouble.dropped += dropped.swap(0, Ordering::Relaxed);
        if let Some(report) = trouble.due(Instant::now()) {
            say(report);
        }
    }
    trouble.dropped += dropped.swap(0, Ordering::Relaxed);
    if let Some(report) = trouble.take() {
        say(report);
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
        let mut parts = Vec::new();
        if self.lost > 0 {
            parts.push(format!("{} line(s) not written: {}", self.lost, self.error));
        }
        if self.dropped > 0 {
            parts.push(format!(
                "{} line(s) dropped: more than {QUEUE} were waiting",
                self.dropped
            ));
        }
        (self.lost, self.dropped) = (0, 0);
        (!parts.is_empty()).then(|| {
            format!(
                "docker-agent: audit file {}: {}",
                self.name,
                parts.join("; ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that refuses every write.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("No space left on device"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn queued(lines: &[&str]) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(QUEUE);
        for l in lines {
            tx.try_send(l.to_string()).unwrap();
        }
        rx
    }

    #[test]
    fn lines_are_appended_in_order() {
        let mut out = Vec::new();
        let mut said = Vec::new();
        let mut trouble = Trouble::new("/audit.log".into());
        let rx = queued(&["one\n", "two\n", "three\n"]);
        drain(rx, &mut out, &AtomicU64::new(0), &mut trouble, |m| {
            said.push(m)
        });
        assert_eq!(out, b"one\ntwo\nthree\n");
        assert!(said.is_empty(), "{said:?}");
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (tx, mut rx) = mpsc::channel(2);
        let queue = Queue {
            lines: Mutex::new(Some(tx)),
            dropped: Arc::new(AtomicU64::new(0)),
        };
        for n in 0..5 {
            queue.push(format!("{n}\n"));
        }
        assert_eq!(queue.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(rx.try_recv().unwrap(), "0\n");
        assert_eq!(rx.try_recv().unwrap(), "1\n");
        lock(&queue.lines).take();
        queue.push("after close\n".into());
        assert_eq!(queue.dropped.load(Ordering::Relaxed), 4);
        // The writer reports what was dropped.
        let mut said = Vec::new();
        let mut trouble = Trouble::new("/audit.log".into());
        drain(
            queued(&["x\n"]),
            Vec::new(),
            &queue.dropped,
            &mut trouble,
            |m| said.push(m),
        );
        assert_eq!(
            said,
            ["docker-agent: audit file /audit.log: 4 line(s) dropped: more than 1024 were waiting"]
        );
    }

    #[test]
    fn write_failures_are_reported_once_then_summed_up() {
        let mut said = Vec::new();
        let mut trouble = Trouble::new("/full/audit.log".into());
        let rx = queued(&["a\n", "b\n", "c\n"]);
        drain(rx, Full, &AtomicU64::new(0), &mut trouble, |m| said.push(m));
        assert_eq!(
            said,
            [
                "docker-agent: audit file /full/audit.log: 1 line(s) not written: No space left on device",
                "docker-agent: audit file /full/audit.log: 2 line(s) not written: No space left on device",
            ]
        );
    }

    #[test]
    fn reports_come_at_most_once_per_interval() {
        let mut t = Trouble::new("f".into());
        let t0 = Instant::now();
        assert_eq!(t.due(t0), None, "nothing to say");
        t.lost = 1;
        assert!(t.due(t0).is_some());
        t.lost = 1;
        assert_eq!(t.due(t0 + Duration::from_secs(1)), None);
        t.dropped = 2;
        let later = t.due(t0 + REPORT_EVERY).unwrap();
        assert!(
            later.contains("1 line(s) not written") && later.contains("2 line(s) dropped"),
            "{later}"
        );
        assert_eq!(t.due(t0 + REPORT_EVERY * 3), None, "counts start afresh");
    }
}
