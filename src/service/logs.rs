//! A container's recent logs as one string (`GET /containers/{id}/logs`).
//!
//! stdout and stderr arrive interleaved in Docker's multiplexed frames
//! (decoded by [`crate::docker::frames`]) or, for TTY containers, as raw
//! bytes. Invalid UTF-8 is replaced, not dropped.
//!
//! The caller sets a [`LogLimit`]: how many bytes the text may take *once
//! encoded* the way the caller sends it (a JSON string escapes a control
//! character into six bytes). The body is read incrementally keeping only
//! the last `limit.bytes` raw bytes (no character encodes smaller than it
//! is), then the text is cut at a line start until its encoded size fits,
//! and [`ContainerLogs::truncated`] says whether anything was left out.
//!
//! What is read is a [`LogRead`]: Docker's own `tail`, `since`, `until`,
//! `timestamps` and streams, then — for the MCP tool — the lines that
//! contain a text (among those read), and a cap on the raw bytes of text.
//! `tail=all` reads the whole log, keeping only its newest text as above;
//! its answer's `tail` is the number of lines kept.
//!
//! At most [`CONCURRENT_READS`] reads run at once. A read's turn is handed
//! to the caller with the logs ([`LogTurn`]), to be kept until the answer
//! has been written, so clients that never read their answers cannot make
//! the agent hold more than that many of them.

use super::streams::LogOptions;
use super::{Service, check_container_ref};
use crate::contract::ContainerLogs;
use crate::docker::DockerError;
use crate::docker::containers::LogsQuery;
use crate::docker::frames::{FrameDecoder, StreamKind};
use crate::error::Error;
use crate::policy::{Caller, Op};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;

/// Most bytes of log text in a REST answer, counted JSON-escaped.
pub const MAX_LOG_BYTES: usize = 8 << 20;
/// Log reads in progress at once (turns held until answers are written);
/// more wait their turn, at most `DOCKER_TIMEOUT`, then get 503.
pub const CONCURRENT_READS: usize = 8;

/// One of the [`CONCURRENT_READS`] turns; the read's answer keeps it until written.
pub type LogTurn = OwnedSemaphorePermit;

/// How much log text a caller can take.
#[derive(Debug, Clone, Copy)]
pub struct LogLimit {
    /// Bytes the text may take once encoded.
    pub bytes: usize,
    /// Bytes one character takes once encoded.
    pub cost: fn(char) -> usize,
}

/// What to read of a container's log: the part a follow would start with
/// ([`LogOptions`]), then what is kept of it.
#[derive(Debug, Clone)]
pub struct LogRead {
    pub options: LogOptions,
    /// Only the lines containing this text (case-sensitive).
    pub contains: Option<String>,
    /// Most bytes of text kept (UTF-8, before encoding), on top of the limit.
    pub max_bytes: usize,
}

impl LogRead {
    /// The last `tail` lines of both streams, as they are.
    pub fn tail(tail: u32) -> LogRead {
        LogRead::from(LogOptions {
            tail: Some(tail),
            since: None,
            until: None,
            timestamps: false,
            stdout: true,
            stderr: true,
        })
    }

    /// What Docker is asked for this read.
    fn docker_query(&self) -> LogsQuery<'_> {
        let o = &self.options;
        LogsQuery {
            follow: false,
            stdout: o.stdout,
            stderr: o.stderr,
            tail: o.tail,
            since: o.since.as_deref(),
            until: o.until.as_deref(),
            timestamps: o.timestamps,
        }
    }
}

/// A read of the part of the log a follow would start with, all of it kept.
impl From<LogOptions> for LogRead {
    fn from(options: LogOptions) -> LogRead {
        LogRead {
            options,
            contains: None,
            max_bytes: usize::MAX,
        }
    }
}

impl Service {
    /// Admits the read (inspect tells the container's mode, TTY or not, on
    /// which the answer's framing depends), then reads the logs by full id.
    pub async fn logs(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
        read: &LogRead,
        limit: LogLimit,
    ) -> Result<(ContainerLogs, LogTurn), Error> {
        check_container_ref(id)?;
        let turn = self.log_turn().await?;
        let info = self.admit(caller, op, id).await?;
        let docker = &self.docker;
        let resp = docker
            .container_logs(&info.id, &read.docker_query())
            .await
            .map_err(|e| Error::for_container(e, id))?;
        let (bytes, trimmed) = docker
            .deadline(
                docker.timeout(),
                collect(resp.into_body(), info.config.tty, limit.bytes),
            )
            .await
            .map_err(|e| Error::for_container(e, id))?;
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let text = match &read.contains {
            Some(needle) => grep(&text, needle),
            None => text,
        };
        let (text, cut) = fit(text, limit);
        let raw = LogLimit {
            bytes: read.max_bytes,
            cost: char::len_utf8,
        };
        let (logs, capped) = fit(text, raw);
        let lines = || u32::try_from(logs.lines().count()).unwrap_or(u32::MAX);
        let logs = ContainerLogs {
            container_id: id.to_string(),
            tail: read.options.tail.unwrap_or_else(lines),
            logs,
            truncated: trimmed || cut || capped,
        };
        Ok((logs, turn))
    }

    /// Waits for a turn to read logs, at most the Docker timeout.
    async fn log_turn(&self) -> Result<LogTurn, Error> {
        let wait = self.docker.timeout();
        match tokio::time::timeout(wait, self.log_reads.clone().acquire_owned()).await {
            Ok(turn) => turn.map_err(|_| Error::Internal),
            Err(_) => Err(Error::Busy(
                "Too many log reads in progress; try again later",
            )),
        }
    }
}

/// The lines of `text` that contain `needle`.
fn grep(text: &str, needle: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| line.contains(needle))
        .collect()
}

/// Cuts the front of `text` until its encoded size fits `limit`, at a line
/// start when there is one; says whether anything was cut.
fn fit(mut text: String, limit: LogLimit) -> (String, bool) {
    let mut size = 0;
    let over = text.char_indices().rev().find_map(|(i, c)| {
        size += (limit.cost)(c);
        (size > limit.bytes).then_some(i + c.len_utf8())
    });
    let Some(keep_from) = over else {
        return (text, false);
    };
    let start = if text[..keep_from].ends_with('\n') {
        keep_from
    } else {
        text[keep_from..]
            .find('\n')
            .map_or(keep_from, |i| keep_from + i + 1)
    };
    text.drain(..start);
    (text, true)
}

/// Keeps the last `cap` bytes pushed into it, starting at a line start
/// whenever anything was dropped.
struct TailBuffer {
    buf: Vec<u8>,
    cap: usize,
    /// Whether bytes were dropped from the front.
    trimmed: bool,
}

impl TailBuffer {
    fn new(cap: usize) -> TailBuffer {
        TailBuffer {
            buf: Vec::new(),
            cap,
            trimmed: false,
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        if self.buf.len() > self.cap + self.cap / 4 {
            let excess = self.buf.len() - self.cap;
            self.buf.drain(..excess);
            self.trimmed = true;
        }
    }

    /// The bytes kept, and whether any were dropped.
    fn finish(mut self) -> (Vec<u8>, bool) {
        if self.buf.len() > self.cap {
            let excess = self.buf.len() - self.cap;
            self.buf.drain(..excess);
            self.trimmed = true;
        }
        if self.trimmed {
            let line_start = self
                .buf
                .iter()
                .position(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            self.buf.drain(..line_start);
        }
        (self.buf, self.trimmed)
    }
}

/// Reads a logs body (raw bytes for TTY containers, multiplexed frames
/// otherwise), keeping the last `cap` bytes; says whether any were dropped.
async fn collect(
    mut body: Incoming,
    tty: bool,
    cap: usize,
) -> Result<(Vec<u8>, bool), DockerError> {
    let mut out = TailBuffer::new(cap);
    let mut decoder = FrameDecoder::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| DockerError::Unavailable(format!("reading logs: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if tty {
            out.push(&data);
            continue;
        }
        decoder.push(&data);
        while let Some(f) = decoder
            .next_frame()
            .map_err(|e| DockerError::Protocol(e.to_string()))?
        {
            if f.stream == StreamKind::Daemon {
                let message = String::from_utf8_lossy(&f.data).into_owned();
                return Err(DockerError::Status {
                    status: 500,
                    message,
                });
            }
            out.push(&f.data);
        }
    }
    decoder
        .finish()
        .map_err(|e| DockerError::Protocol(e.to_string()))?;
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buffer_keeps_the_last_whole_lines() {
        let mut t = TailBuffer::new(10);
        for i in 0..100 {
            t.push(format!("l{i}\n").as_bytes());
        }
        assert_eq!(t.finish(), (b"l98\nl99\n".to_vec(), true));
    }

    #[test]
    fn tail_buffer_under_cap_is_untouched() {
        let mut t = TailBuffer::new(100);
        t.push(b"a\nb");
        assert_eq!(t.finish(), (b"a\nb".to_vec(), false));
    }

    #[test]
    fn a_cut_inside_a_line_drops_the_partial_line() {
        for n in 1..60 {
            let mut t = TailBuffer::new(10);
            for i in 0..n {
                t.push(format!("l{i:02}\n").as_bytes());
            }
            let out = String::from_utf8(t.finish().0).unwrap();
            assert!(out.is_empty() || out.starts_with('l'), "{n}: {out:?}");
            assert!(out.len() <= 10);
        }
    }

    fn json(bytes: usize) -> LogLimit {
        LogLimit {
            bytes,
            cost: |c| crate::http::body::escaped_len(c, 1),
        }
    }

    #[test]
    fn fitting_counts_encoded_bytes_and_cuts_at_a_line_start() {
        // Each line is 14 bytes once escaped: two \u0001 (6 each) and \n (2).
        let text = "\u{1}\u{1}\n".repeat(100);
        let (kept, cut) = fit(text, json(100));
        assert!(cut);
        assert_eq!(kept, "\u{1}\u{1}\n".repeat(7));
        let (kept, cut) = fit("a\"b\n🐳\n".into(), json(100));
        assert_eq!((kept.as_str(), cut), ("a\"b\n🐳\n", false));
    }

    #[test]
    fn fitted_text_never_encodes_past_the_limit() {
        let lines = [
            "plain\n",
            "\u{1b}[1mbold\u{1b}[0m\n",
            "\"quote\" \\ \t\n",
            "🐳 é ✓\n",
            "\u{0}\u{7}\r\n",
        ];
        let text: String = lines.iter().cycle().take(500).copied().collect();
        for bytes in [0, 1, 7, 50, 333, 1000, 4096, 100_000] {
            let (kept, cut) = fit(text.clone(), json(bytes));
            let encoded = serde_json::to_string(&kept).unwrap().len() - 2;
            assert!(encoded <= bytes, "{bytes}: {encoded}");
            assert!(text.ends_with(&kept));
            assert_eq!(cut, kept.len() < text.len());
            let dropped = &text[..text.len() - kept.len()];
            assert!(
                dropped.is_empty() || dropped.ends_with('\n'),
                "{bytes}: cut at a line start"
            );
        }
    }

    #[test]
    fn grep_keeps_whole_matching_lines() {
        let text = "GET /a 200\nGET /b 500\nPOST /c 500\nlast 500";
        assert_eq!(grep(text, "500"), "GET /b 500\nPOST /c 500\nlast 500");
        assert_eq!(grep(text, "get"), "", "case-sensitive");
        assert_eq!(grep("", "x"), "");
    }

    #[test]
    fn docker_gets_only_what_was_asked() {
        let mut read = LogRead::tail(5);
        assert_eq!(read.docker_query().query(), "?stdout=1&stderr=1&tail=5");
        read.options.stdout = false;
        read.options.timestamps = true;
        read.options.since = Some("1704067200.5".into());
        read.options.until = Some("1704067300".into());
        assert_eq!(
            read.docker_query().query(),
            "?stdout=0&stderr=1&tail=5&timestamps=1&since=1704067200.5&until=1704067300"
        );
        read.options.tail = None;
        assert!(read.docker_query().query().contains("&tail=all&"));
    }

    #[test]
    fn a_single_line_longer_than_the_limit_keeps_its_end() {
        let (kept, cut) = fit("x".repeat(10), json(4));
        assert_eq!((kept.as_str(), cut), ("xxxx", true));
    }
}
