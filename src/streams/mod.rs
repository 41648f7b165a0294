//! The shared streams of logs, stats and Docker events: one upstream per
//! topic, read from Docker and fanned out to every subscriber (the
//! WebSocket streams, MCP change notifications) without losing anyone's
//! messages. Transport-neutral: a stream's messages are [`Text`], and its
//! end a [`Close`] code and reason, which each surface sends its own way.
//!
//! - [`hub`]: sharing one upstream among subscribers, losslessly, with
//!   bounded queues;
//! - [`pumps`] and [`events`]: the upstream tasks reading Docker;
//! - this module: each stream's key, queue rules and replay, and joining
//!   one ([`Streams`]).
//!
//! - **logs**: one message per line, lossless; replays its tail to late
//!   joiners; ends 1000 "Container stopped" when the container stops and
//!   every line was delivered, or "Reached 'until'" once `until` passed.
//! - **stats**: one JSON message per Docker sample; a slow reader gets the
//!   latest sample; replays the latest sample; ends 1000 when the
//!   container stops.
//! - **events**: each Docker event as one JSON message, lossless like logs.
//!
//! Refusals and failures end with: 1008 bad parameters or a policy
//! refusal, 4404 unknown (or out-of-scope) container, 4400 ambiguous id,
//! 4409 a conflict (a container not running, the agent's own), 1013
//! Docker unavailable, 1011 other Docker errors ([`close_for`]).

mod events;
pub mod hub;
mod pumps;

pub use hub::{Close, Next, Text};

use crate::error::Error;
use crate::service::Service;
use crate::service::streams::{ContainerRef, EventFilters, LogOptions};
use hub::{Hub, Limits, Overflow, Publisher, Starter, Subscription};
use std::sync::Arc;

/// Identifies one shared upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StreamKey {
    Logs(String, LogOptions),
    Stats(String),
    Events(String),
    /// A topic of one subscriber, put together elsewhere ([`Streams::own`]).
    Own(u64),
}

pub type Sub = Subscription<StreamKey>;
pub type Pub = Publisher<StreamKey>;

/// Log lines: a queue of up to 4096 lines or 1 MiB, then the subscriber
/// moves to its own follow.
const LOG_LIMITS: Limits = Limits {
    messages: 4096,
    bytes: 1 << 20,
    overflow: Overflow::Resume,
};
/// Events are few but must not be lost: Docker keeps only its last 256
/// for resuming, so the queue is deep.
const EVENT_LIMITS: Limits = Limits {
    messages: 8192,
    bytes: 4 << 20,
    overflow: Overflow::Resume,
};
/// Stats: the latest sample only.
const STATS_LIMITS: Limits = Limits {
    messages: 1,
    bytes: 1 << 20,
    overflow: Overflow::Latest,
};
/// Lines a `tail=all` topic replays to late joiners at most (and 1 MiB).
const REPLAY_ALL: usize = usize::MAX;
/// The stream end for a refused or failed stream.
pub fn close_for(e: &Error) -> Close {
    let code = match e {
        Error::ContainerNotFound(_) => 4404,
        Error::AmbiguousContainer(_) => 4400,
        Error::Conflict(_) | Error::OwnContainer(_) => 4409,
        Error::Validation(_) | Error::BadRequest(_) | Error::Denied(_) => 1008,
        Error::DockerUnavailable | Error::DockerTimeout => 1013,
        _ => 1011,
    };
    Close::new(code, e.message())
}

/// The shared streams: their hub, and the service their upstreams read.
pub struct Streams {
    hub: Arc<Hub<StreamKey>>,
    service: Arc<Service>,
    /// The next [`StreamKey::Own`] id.
    own: std::sync::atomic::AtomicU64,
}

impl Streams {
    pub fn new(service: Arc<Service>) -> Streams {
        Streams {
            hub: Hub::new(),
            service,
            own: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Joins (or starts) the logs topic of the admitted container `c`.
    pub fn logs(&self, c: ContainerRef, opts: LogOptions) -> Sub {
        let key = StreamKey::Logs(c.id.clone(), opts.clone());
        let replay = opts.tail.map_or(REPLAY_ALL, |t| t as usize);
        let service = self.service.clone();
        let starter: Starter<StreamKey> = Arc::new(move |p, from| {
            let task = pumps::logs(service.clone(), p, c.clone(), opts.clone(), from);
            tokio::spawn(task).abort_handle()
        });
        self.hub.subscribe(key, LOG_LIMITS, replay, starter)
    }

    /// Joins (or starts) the stats topic of the admitted container `c`.
    pub fn stats(&self, c: ContainerRef) -> Sub {
        let key = StreamKey::Stats(c.id.clone());
        let service = self.service.clone();
        let starter: Starter<StreamKey> = Arc::new(move |p, _| {
            tokio::spawn(pumps::stats(service.clone(), p, c.clone())).abort_handle()
        });
        self.hub.subscribe(key, STATS_LIMITS, 1, starter)
    }

    /// Joins (or starts) the events topic for `filters`; the caller was
    /// admitted already.
    /// Joins the events topic for `filters`: from now, or from `since`
    /// (Unix nanoseconds; Docker keeps its recent events) on an upstream
    /// of that starting point.
    pub fn events(&self, filters: EventFilters, since: Option<u64>) -> Sub {
        let mut key = serde_json::to_string(&filters).unwrap_or_default();
        if let Some(since) = since {
            key.push_str(&format!("@{since}"));
        }
        let key = StreamKey::Events(key);
        let since = since.unwrap_or_else(crate::clock::unix_now_nanos);
        let service = self.service.clone();
        let starter: Starter<StreamKey> = Arc::new(move |p, from| {
            let task = events::pump(service.clone(), p, filters.clone(), since, from);
            tokio::spawn(task).abort_handle()
        });
        self.hub.subscribe(key, EVENT_LIMITS, 0, starter)
    }

    /// A topic of its own for one subscriber, its upstream started by
    /// `starter`, with the events' queue rules: a stream put together
    /// from several (the events of every host of a fleet).
    pub fn own(&self, starter: Starter<StreamKey>) -> Sub {
        let id = self.own.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hub
            .subscribe(StreamKey::Own(id), EVENT_LIMITS, 0, starter)
    }

    /// Subscribers now.
    pub fn subscriber_count(&self) -> usize {
        self.hub.subscriber_count()
    }

    /// Docker streams open for subscribers now (shared or their own).
    pub fn upstream_count(&self) -> usize {
        self.hub.upstream_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_close_codes() {
        assert_eq!(
            close_for(&Error::ContainerNotFound("web".into())),
            Close::new(4404, "Container 'web' not found")
        );
        assert_eq!(close_for(&Error::DockerUnavailable).code, 1013);
        assert_eq!(close_for(&Error::Validation(Vec::new())).code, 1008);
        assert_eq!(close_for(&Error::DockerFailed("x".into())).code, 1011);
    }
}
