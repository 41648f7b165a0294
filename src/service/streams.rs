//! Long-lived Docker streams, decoded: followed log lines, stats samples and
//! events. Each opener is one Docker call; the returned reader pulls from
//! the response body only when asked, so a slow consumer slows the read
//! instead of growing a buffer. No deadline applies once a stream is open.

use super::{Service, check_container_ref};
use crate::docker::frames::{FrameDecoder, StreamKind};
use crate::docker::jsonstream::JsonSplitter;
use crate::docker::lines::{LineSplitter, strip_timestamp};
use crate::docker::{DockerError, path};
use crate::error::Error;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::{BTreeMap, VecDeque};

/// A container as a stream needs it: its full id, whether it has a TTY,
/// and whether it is running.
#[derive(Debug, Clone)]
pub struct ContainerRef {
    pub id: String,
    pub tty: bool,
    pub running: bool,
}

/// What to follow in a container's log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogOptions {
    pub tail: u32,
    /// Unix seconds (optionally fractional), as Docker takes it.
    pub since: Option<String>,
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Docker event filters: filter name → accepted values.
pub type EventFilters = BTreeMap<String, Vec<String>>;

impl Service {
    /// Resolves an id, prefix or name to the container's full id and mode.
    pub async fn resolve(&self, id: &str) -> Result<ContainerRef, Error> {
        let c = self.inspect(id).await?;
        Ok(ContainerRef {
            id: c.id,
            tty: c.config.tty,
            running: c.state.running,
        })
    }

    /// Follows a container's log (`follow=1`), from `tail` lines back.
    pub async fn follow_logs(
        &self,
        c: &ContainerRef,
        opts: &LogOptions,
    ) -> Result<LogFollower, Error> {
        check_container_ref(&c.id)?;
        let flag = |b: bool| if b { "1" } else { "0" };
        let tail = opts.tail.to_string();
        let mut q = vec![
            ("follow", "1"),
            ("stdout", flag(opts.stdout)),
            ("stderr", flag(opts.stderr)),
            ("tail", tail.as_str()),
            ("timestamps", flag(opts.timestamps)),
        ];
        if let Some(since) = &opts.since {
            q.push(("since", since));
        }
        let url = path::container(&c.id, &format!("/logs{}", path::query(&q)));
        let resp = self
            .docker
            .open(&url)
            .await
            .map_err(|e| Error::for_container(e, &c.id))?;
        Ok(LogFollower {
            body: resp.into_body(),
            tty: c.tty,
            timestamps: opts.timestamps,
            frames: FrameDecoder::new(),
            out: LineSplitter::new(),
            err: LineSplitter::new(),
            ready: VecDeque::new(),
            ended: false,
        })
    }

    /// Streams stats samples (`stream=1`), one JSON object per second.
    pub async fn stats_stream(&self, c: &ContainerRef) -> Result<JsonStream, Error> {
        let url = path::container(&c.id, "/stats?stream=1");
        let resp = self
            .docker
            .open(&url)
            .await
            .map_err(|e| Error::for_container(e, &c.id))?;
        Ok(JsonStream::new(resp.into_body()))
    }

    /// Streams daemon events matching `filters`, from `since` (Unix seconds) if given.
    pub async fn events(
        &self,
        filters: &EventFilters,
        since: Option<&str>,
    ) -> Result<JsonStream, Error> {
        let filters_json = serde_json::to_string(filters).unwrap_or_else(|_| "{}".into());
        let mut q = vec![("filters", filters_json.as_str())];
        if let Some(since) = since {
            q.push(("since", since));
        }
        let resp = self
            .docker
            .open(&format!("/events{}", path::query(&q)))
            .await?;
        Ok(JsonStream::new(resp.into_body()))
    }
}

fn read_error(e: hyper::Error) -> Error {
    Error::from(DockerError::Unavailable(format!("stream interrupted: {e}")))
}

fn protocol(e: impl std::fmt::Display) -> Error {
    Error::from(DockerError::Protocol(e.to_string()))
}

/// Lines of a followed log, in order, stdout and stderr each assembled on its own.
pub struct LogFollower {
    body: Incoming,
    tty: bool,
    timestamps: bool,
    frames: FrameDecoder,
    out: LineSplitter,
    err: LineSplitter,
    ready: VecDeque<String>,
    ended: bool,
}

impl LogFollower {
    /// The next line; `Ok(None)` when Docker ends the stream (the container stopped).
    pub async fn next_line(&mut self) -> Result<Option<String>, Error> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Ok(Some(line));
            }
            if self.ended {
                return Ok(None);
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(data) = frame.map_err(read_error)?.into_data() {
                        self.feed(&data)?;
                    }
                }
                None => self.finish()?,
            }
        }
    }

    /// Takes every line that is already complete, without waiting.
    pub fn drain_ready(&mut self, out: &mut Vec<String>) {
        out.extend(self.ready.drain(..));
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        let mut lines = Vec::new();
        if self.tty {
            self.out.push(data, &mut lines);
        } else {
            self.frames.push(data);
            while let Some(frame) = self.frames.next_frame().map_err(protocol)? {
                let splitter = match frame.stream {
                    StreamKind::Stderr => &mut self.err,
                    StreamKind::Daemon => {
                        return Err(protocol(String::from_utf8_lossy(&frame.data)));
                    }
                    _ => &mut self.out,
                };
                let chunk = if self.timestamps && splitter.has_partial() {
                    strip_timestamp(&frame.data)
                } else {
                    &frame.data
                };
                splitter.push(chunk, &mut lines);
            }
        }
        self.ready.extend(lines);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        self.ended = true;
        self.ready.extend(self.out.flush());
        self.ready.extend(self.err.flush());
        self.frames.finish().map_err(protocol)
    }
}

/// A stream of JSON objects (stats samples, events), one raw object at a time.
pub struct JsonStream {
    body: Incoming,
    splitter: JsonSplitter,
}

impl JsonStream {
    fn new(body: Incoming) -> JsonStream {
        JsonStream {
            body,
            splitter: JsonSplitter::new(),
        }
    }

    /// The next object's bytes; `Ok(None)` at the end of the stream.
    pub async fn next_value(&mut self) -> Result<Option<Vec<u8>>, Error> {
        loop {
            if let Some(v) = self.splitter.next_value().map_err(protocol)? {
                return Ok(Some(v));
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(data) = frame.map_err(read_error)?.into_data() {
                        self.splitter.push(&data);
                    }
                }
                None => {
                    self.splitter.finish().map_err(protocol)?;
                    return Ok(None);
                }
            }
        }
    }
}
