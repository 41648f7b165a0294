//! The three streams: their options, keys and queue rules, and how a
//! subscriber joins one. The upstream tasks are in [`super::pumps`] (logs,
//! stats) and [`super::events`].
//!
//! - **logs** (`?tail=50&since=&until=&timestamps=false&stream=all`, the
//!   vocabulary of [`Query::log_options`]): one text message per line,
//!   lossless (see [`super::hub`]); replays its tail to late joiners; closes
//!   1000 "Container stopped" when the container stops and every line was
//!   delivered, or "Reached 'until'" once `until` has passed.
//! - **stats**: one JSON message per Docker sample; a slow reader gets the
//!   latest sample; replays the latest sample; closes 1000 when the
//!   container stops.
//! - **events** (`?type=&event=&container=&image=&label=&network=&volume=`,
//!   repeated or comma-separated): each Docker event as one JSON message,
//!   lossless like logs.
//!
//! Refusals close with: 1008 bad parameters or a policy refusal, 4404
//! unknown (or out-of-scope) container, 4400 ambiguous id, 4409 a conflict
//! (a container not running, the agent's own), 1013 Docker unavailable,
//! 1011 other Docker errors.

use super::hub::{Close, Limits, Overflow, Publisher, Starter, Subscription};
use super::{events, pumps};
use crate::app::App;
use crate::error::Error;
use crate::http::query::Query;
use crate::http::router::{EVENT_PARAMS, Route};
use crate::policy::{Caller, Op};
use crate::service::streams::{EventFilters, LogOptions};
use std::sync::Arc;

/// Identifies one shared upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StreamKey {
    Logs(String, LogOptions),
    Stats(String),
    Events(String),
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
/// Log lines a stream starts with when `tail` is not given.
const LOG_TAIL: u32 = 50;

/// Event types Docker reports, the values the `type` filter may take.
const EVENT_TYPES: [&str; 11] = [
    "builder",
    "config",
    "container",
    "daemon",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "volume",
];

/// The close frame for a refused or failed stream.
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

/// Validates the request (whose parameters the session has checked against
/// the route's), admits `caller` (resolving the container) and joins (or
/// starts) its topic.
pub async fn subscribe(
    app: &Arc<App>,
    caller: &Caller,
    route: &Route,
    mut q: Query,
) -> Result<Sub, Close> {
    let refuse = |e: Error| close_for(&e);
    let hub = app.streams.clone();
    let s = &app.service;
    match route {
        Route::LogsWs(id) => {
            let opts = q.log_options(LOG_TAIL);
            q.finish().map_err(refuse)?;
            let c = s
                .follow_target(caller, Op::FOLLOW_LOGS, id)
                .await
                .map_err(refuse)?;
            let key = StreamKey::Logs(c.id.clone(), opts.clone());
            let replay = opts.tail.map_or(REPLAY_ALL, |t| t as usize);
            let app = app.clone();
            let starter: Starter<StreamKey> = Arc::new(move |p, from| {
                let task = pumps::logs(app.clone(), p, c.clone(), opts.clone(), from);
                tokio::spawn(task).abort_handle()
            });
            Ok(hub.subscribe(key, LOG_LIMITS, replay, starter))
        }
        Route::StatsWs(id) => {
            q.finish().map_err(refuse)?;
            let c = s
                .follow_target(caller, Op::FOLLOW_STATS, id)
                .await
                .map_err(refuse)?;
            let key = StreamKey::Stats(c.id.clone());
            let app = app.clone();
            let starter: Starter<StreamKey> = Arc::new(move |p, _| {
                tokio::spawn(pumps::stats(app.clone(), p, c.clone())).abort_handle()
            });
            Ok(hub.subscribe(key, STATS_LIMITS, 1, starter))
        }
        _ => {
            let filters = event_filters(&q).map_err(refuse)?;
            s.permit(caller, Op::EVENTS).map_err(refuse)?;
            Ok(events(app, filters))
        }
    }
}

/// Joins (or starts) the shared events topic for `filters`; the caller
/// was admitted already.
pub fn events(app: &Arc<App>, filters: EventFilters) -> Sub {
    let key = StreamKey::Events(serde_json::to_string(&filters).unwrap_or_default());
    let (hub, since) = (app.streams.clone(), crate::clock::unix_now_nanos());
    let app = app.clone();
    let starter: Starter<StreamKey> = Arc::new(move |p, from| {
        let task = events::pump(app.clone(), p, filters.clone(), since, from);
        tokio::spawn(task).abort_handle()
    });
    hub.subscribe(key, EVENT_LIMITS, 0, starter)
}

fn event_filters(q: &Query) -> Result<EventFilters, Error> {
    let mut filters = EventFilters::new();
    for &name in &EVENT_PARAMS[1..] {
        let values: Vec<String> = q
            .all(name)
            .into_iter()
            .flat_map(|v| {
                if name == "label" {
                    vec![v]
                } else {
                    v.split(',').collect()
                }
            })
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.len() > 32 || values.iter().any(|v| v.len() > 256) {
            let e = crate::error::FieldError::query(
                name,
                "too_long",
                "At most 32 values of 256 characters each",
            );
            return Err(Error::Validation(vec![e]));
        }
        if name == "type" && values.iter().any(|v| !EVENT_TYPES.contains(&v.as_str())) {
            let msg = format!("Input should be one of {}", EVENT_TYPES.join(", "));
            let e = crate::error::FieldError::query(name, "enum", msg);
            return Err(Error::Validation(vec![e]));
        }
        if !values.is_empty() {
            filters.insert(name.to_string(), values);
        }
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_filters_accept_repeats_and_commas() {
        let q = Query::parse(Some(
            "type=container&event=start,stop&event=die&label=a=b&label=c&token=t",
        ));
        let f = event_filters(&q).unwrap();
        assert_eq!(f["type"], ["container"]);
        assert_eq!(f["event"], ["start", "stop", "die"]);
        assert_eq!(f["label"], ["a=b", "c"]);
        assert!(!f.contains_key("token"));
        let many = (0..40)
            .map(|i| format!("event=e{i}"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(event_filters(&Query::parse(Some(&many))).is_err());
    }

    #[test]
    fn refusals_map_to_close_codes() {
        assert_eq!(
            close_for(&Error::ContainerNotFound("web".into())),
            Close::new(4404, "Container 'web' not found")
        );
        assert_eq!(close_for(&Error::DockerUnavailable).code, 1013);
        let mut q = Query::parse(Some("tail=some"));
        q.log_options(LOG_TAIL);
        assert_eq!(close_for(&q.finish().unwrap_err()).code, 1008);
        assert_eq!(close_for(&Error::DockerFailed("x".into())).code, 1011);
    }
}
