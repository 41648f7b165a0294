//! Long-lived Docker streams, decoded: followed log lines, stats samples and
//! events. Each opener is one Docker call; the returned reader pulls from
//! the response body only when asked, so a slow consumer slows the read
//! instead of growing a buffer. No deadline applies once a stream is open.

use super::follow::{LogDecoder, LogFollower};
use super::{Service, check_container_ref};
use crate::docker::containers::LogsQuery;
use crate::docker::jsonstream::{JsonSplitter, Value};
use crate::docker::resume::{Position, since_for};
use crate::error::Error;
use crate::policy::{Caller, Op};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::BTreeMap;

/// A container as a stream needs it: its full id, whether it has a TTY,
/// and whether it is running.
#[derive(Debug, Clone)]
pub struct ContainerRef {
    pub id: String,
    pub tty: bool,
    pub running: bool,
}

fn container_ref(c: crate::docker::models::ContainerInspect) -> ContainerRef {
    ContainerRef {
        id: c.id,
        tty: c.config.tty,
        running: c.state.running,
    }
}

/// Which part of a container's log, and how: what a follow (and, through
/// [`super::logs::LogRead`], a one-off read) asks Docker for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogOptions {
    /// Lines from the end to start with; `None` for all of it (`tail=all`).
    pub tail: Option<u32>,
    /// Unix seconds (optionally fractional), as Docker takes them.
    pub since: Option<String>,
    /// Lines before this time only; a follow ends once it has passed.
    pub until: Option<String>,
    /// Each line prefixed with Docker's RFC 3339 timestamp.
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Docker event filters: filter name → accepted values.
pub type EventFilters = BTreeMap<String, Vec<String>>;

impl Service {
    /// Admits `caller` to follow (`op`) the container `id` names (id,
    /// prefix or name), resolved to its full id and mode.
    pub async fn follow_target(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
    ) -> Result<ContainerRef, Error> {
        self.admit(caller, op, id).await.map(container_ref)
    }

    /// A followed container's current state, by the full id it was admitted with.
    pub async fn recheck(&self, full_id: &str) -> Result<ContainerRef, Error> {
        self.inspect(full_id).await.map(container_ref)
    }

    /// Follows a container's log (`follow=1`): from `tail` lines back, or
    /// resuming just after `from`; up to `until`, where Docker ends the
    /// stream once a later line arrives. Docker is always asked for timestamps,
    /// which name each entry for resuming; they are stripped unless asked for.
    pub async fn follow_logs(
        &self,
        c: &ContainerRef,
        opts: &LogOptions,
        from: Option<Position>,
    ) -> Result<LogFollower, Error> {
        check_container_ref(&c.id)?;
        let (tail, since) = match from.and_then(|p| p.after) {
            Some(anchor) => (None, Some(since_for(anchor))),
            None => (opts.tail, opts.since.clone()),
        };
        let query = LogsQuery {
            follow: true,
            stdout: opts.stdout,
            stderr: opts.stderr,
            tail,
            since: since.as_deref(),
            until: opts.until.as_deref(),
            timestamps: true,
        };
        let resp = self
            .docker
            .container_logs(&c.id, &query)
            .await
            .map_err(|e| Error::for_container(e, &c.id))?;
        let decoder = LogDecoder::new(c.tty, opts.timestamps, from);
        Ok(LogFollower::new(resp.into_body(), decoder))
    }

    /// Streams stats samples (`stream=1`), one JSON object per second.
    pub async fn stats_stream(&self, c: &ContainerRef) -> Result<JsonStream, Error> {
        let resp = self
            .docker
            .follow_container_stats(&c.id)
            .await
            .map_err(|e| Error::for_container(e, &c.id))?;
        Ok(JsonStream::new(resp.into_body()))
    }

    /// Streams daemon events matching `filters`, from `since` (`secs.nanos`) if given.
    pub async fn events(
        &self,
        filters: &EventFilters,
        since: Option<&str>,
    ) -> Result<JsonStream, Error> {
        let filters_json = serde_json::to_string(filters).unwrap_or_else(|_| "{}".into());
        let resp = self.docker.events(&filters_json, since).await?;
        Ok(JsonStream::new(resp.into_body()))
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

    /// The next object (or an oversized one's outline); `Ok(None)` at the end of the stream.
    pub async fn next_value(&mut self) -> Result<Option<Value>, Error> {
        loop {
            if let Some(v) = self.splitter.next_value().map_err(Error::corrupt_stream)? {
                return Ok(Some(v));
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(data) = frame.map_err(Error::interrupted)?.into_data() {
                        self.splitter.push(&data);
                    }
                }
                None => {
                    self.splitter.finish().map_err(Error::corrupt_stream)?;
                    return Ok(None);
                }
            }
        }
    }
}
