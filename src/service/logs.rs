//! A container's recent logs as one string (`GET /containers/{id}/logs`).
//!
//! stdout and stderr arrive interleaved in Docker's multiplexed frames
//! (decoded by [`crate::docker::frames`]) or, for TTY containers, as raw
//! bytes. The body is read incrementally and only the last
//! [`MAX_LOG_BYTES`] are kept (cut at a line start), so a container with
//! huge lines cannot exhaust memory. Invalid UTF-8 is replaced, not dropped.

use super::{Service, check_container_ref};
use crate::docker::frames::{FrameDecoder, StreamKind};
use crate::docker::{DockerError, path};
use crate::error::Error;
use crate::models::ContainerLogs;
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Most log text returned by one call.
pub const MAX_LOG_BYTES: usize = 8 << 20;
/// Log reads in progress at once; more wait their turn, so memory stays
/// bounded (about 10 MiB each) however many clients ask.
pub const CONCURRENT_READS: usize = 8;

impl Service {
    /// Asks for the container's mode (TTY or not) and its logs at once: the
    /// answer's framing depends on the mode, which only inspect tells on
    /// every API version.
    pub async fn logs(&self, id: &str, tail: u32) -> Result<ContainerLogs, Error> {
        check_container_ref(id)?;
        let _turn = self
            .log_reads
            .acquire()
            .await
            .map_err(|_| Error::Internal)?;
        let tail_s = tail.to_string();
        let q = path::query(&[("stdout", "1"), ("stderr", "1"), ("tail", &tail_s)]);
        let docker = &self.docker;
        let logs_path = path::container(id, &format!("/logs{q}"));
        let (info, opened) = tokio::join!(self.inspect(id), docker.open(&logs_path));
        let info = info?;
        let resp = opened.map_err(|e| Error::for_container(e, id))?;
        let bytes = docker
            .deadline(
                docker.timeout(),
                collect(resp.into_body(), info.config.tty, MAX_LOG_BYTES),
            )
            .await
            .map_err(|e| Error::for_container(e, id))?;
        Ok(ContainerLogs {
            container_id: id.to_string(),
            logs: String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            tail,
        })
    }
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

    fn finish(mut self) -> Vec<u8> {
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
        self.buf
    }
}

/// Reads a logs body: raw bytes for TTY containers, multiplexed frames otherwise.
async fn collect(mut body: Incoming, tty: bool, cap: usize) -> Result<Vec<u8>, DockerError> {
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
        assert_eq!(t.finish(), b"l98\nl99\n");
    }

    #[test]
    fn tail_buffer_under_cap_is_untouched() {
        let mut t = TailBuffer::new(100);
        t.push(b"a\nb");
        assert_eq!(t.finish(), b"a\nb");
    }

    #[test]
    fn a_cut_inside_a_line_drops_the_partial_line() {
        for n in 1..60 {
            let mut t = TailBuffer::new(10);
            for i in 0..n {
                t.push(format!("l{i:02}\n").as_bytes());
            }
            let out = String::from_utf8(t.finish()).unwrap();
            assert!(out.is_empty() || out.starts_with('l'), "{n}: {out:?}");
            assert!(out.len() <= 10);
        }
    }
}
