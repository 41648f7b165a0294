//! The three streams and the upstream task behind each topic.
//!
//! - **logs** (`?tail=50&since=&timestamps=false&stream=stdout|stderr`):
//!   one text message per line; replays its tail to late joiners; closes
//!   1000 "Container stopped" when Docker ends the follow because the
//!   container stopped.
//! - **stats**: one JSON message per Docker sample; replays the latest
//!   sample; closes 1000 when the container stops.
//! - **events** (`?type=&event=&container=&image=&label=&network=&volume=`,
//!   repeated or comma-separated): each Docker event as one JSON message.
//!   When the daemon goes away subscribers get an `agent`
//!   `docker-disconnected` event, the task reconnects with backoff, resumes
//!   from the last event's time, and announces `docker-reconnected`.
//!
//! Refusals close with: 1008 bad parameters, 4404 unknown container, 4400
//! ambiguous id, 1013 Docker unavailable, 1011 other Docker errors.

use super::hub::{Close, Publisher, Subscription};
use crate::app::App;
use crate::docker::models;
use crate::error::Error;
use crate::http::query::Query;
use crate::http::router::Route;
use crate::models::StatsSample;
use crate::service::stats::figures;
use crate::service::streams::{ContainerRef, EventFilters, LogOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Identifies one shared upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StreamKey {
    Logs(String, LogOptions),
    Stats(String),
    Events(String),
}

pub type Sub = Subscription<StreamKey>;
type Pub = Publisher<StreamKey>;

/// Filters the events stream accepts, as Docker names them.
const EVENT_FILTERS: [&str; 7] = [
    "type",
    "event",
    "container",
    "image",
    "label",
    "network",
    "volume",
];

/// The close frame for a refused or failed stream.
pub fn close_for(e: &Error) -> Close {
    let code = match e {
        Error::ContainerNotFound(_) => 4404,
        Error::AmbiguousContainer(_) => 4400,
        Error::Validation(_) | Error::BadRequest(_) => 1008,
        Error::DockerUnavailable | Error::DockerTimeout => 1013,
        _ => 1011,
    };
    Close::new(code, e.message())
}

/// Validates the request, resolves the container and joins (or starts) its topic.
pub async fn subscribe(app: &Arc<App>, route: &Route, mut q: Query) -> Result<Sub, Close> {
    match route {
        Route::LogsWs(id) => {
            let opts = log_options(&mut q).map_err(|e| close_for(&e))?;
            let c = app.service.resolve(id).await.map_err(|e| close_for(&e))?;
            let key = StreamKey::Logs(c.id.clone(), opts.clone());
            let replay = opts.tail as usize;
            let app = app.clone();
            Ok(app.clone().streams.subscribe(key, replay, move |p| {
                tokio::spawn(pump_logs(app, p, c, opts)).abort_handle()
            }))
        }
        Route::StatsWs(id) => {
            q.finish().map_err(|e| close_for(&e))?;
            let c = app.service.resolve(id).await.map_err(|e| close_for(&e))?;
            let app = app.clone();
            Ok(app
                .clone()
                .streams
                .subscribe(StreamKey::Stats(c.id.clone()), 1, move |p| {
                    tokio::spawn(pump_stats(app, p, c)).abort_handle()
                }))
        }
        _ => {
            let filters = event_filters(&q).map_err(|e| close_for(&e))?;
            let key = StreamKey::Events(serde_json::to_string(&filters).unwrap_or_default());
            let app = app.clone();
            Ok(app.clone().streams.subscribe(key, 0, move |p| {
                tokio::spawn(pump_events(app, p, filters)).abort_handle()
            }))
        }
    }
}

fn log_options(q: &mut Query) -> Result<LogOptions, Error> {
    let tail = q.int("tail", 50, 0, 10_000) as u32;
    let timestamps = q.bool("timestamps", false);
    let since = q.get("since").map(str::to_string);
    let which = q.get("stream").unwrap_or("all").to_ascii_lowercase();
    let bad = |name: &str, kind, msg: &str| {
        Error::Validation(vec![crate::error::FieldError::query(name, kind, msg)])
    };
    let (stdout, stderr) = match which.as_str() {
        "all" | "both" => (true, true),
        "stdout" => (true, false),
        "stderr" => (false, true),
        _ => {
            return Err(bad(
                "stream",
                "enum",
                "Input should be 'stdout', 'stderr' or 'all'",
            ));
        }
    };
    let since = match since {
        None => None,
        Some(s) => Some(unix_time(&s).ok_or_else(|| {
            bad(
                "since",
                "datetime_parsing",
                "Input should be Unix seconds or an RFC 3339 timestamp",
            )
        })?),
    };
    q.finish()?;
    Ok(LogOptions {
        tail,
        since,
        timestamps,
        stdout,
        stderr,
    })
}

/// `since` as Docker takes it: Unix seconds, possibly fractional.
fn unix_time(s: &str) -> Option<String> {
    let s = s.trim();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let numeric = match s.split_once('.') {
        Some((whole, frac)) => digits(whole) && digits(frac),
        None => digits(s),
    };
    if numeric {
        return Some(s.to_string());
    }
    crate::clock::parse_rfc3339(s)
        .filter(|t| *t >= 0)
        .map(|t| t.to_string())
}

fn event_filters(q: &Query) -> Result<EventFilters, Error> {
    let mut filters = EventFilters::new();
    for name in EVENT_FILTERS {
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
        if !values.is_empty() {
            filters.insert(name.to_string(), values);
        }
    }
    Ok(filters)
}

async fn pump_logs(app: Arc<App>, publisher: Pub, c: ContainerRef, opts: LogOptions) {
    let mut follower = match app.service.follow_logs(&c, &opts).await {
        Ok(f) => f,
        Err(e) => return publisher.end(close_for(&e)),
    };
    loop {
        match follower.next_line().await {
            Ok(Some(line)) => {
                let mut batch = vec![line];
                follower.drain_ready(&mut batch);
                publisher.publish_all(batch);
            }
            Ok(None) => break,
            Err(e) => return publisher.end(close_for(&e)),
        }
    }
    publisher.end(after_stream(&app, &c.id, "Log stream interrupted; reconnect to resume").await);
}

/// Why a container's stream ended: it stopped (1000), or Docker went away.
async fn after_stream(app: &App, id: &str, interrupted: &str) -> Close {
    match app.service.resolve(id).await {
        Ok(c) if !c.running => Close::new(1000, "Container stopped"),
        Ok(_) => Close::new(1011, interrupted),
        Err(Error::ContainerNotFound(_)) => Close::new(1000, "Container removed"),
        Err(e) => close_for(&e),
    }
}

/// Docker reports a stopped container's samples with a zero read time.
const NOT_RUNNING: &str = "0001-01-01T00:00:00Z";

async fn pump_stats(app: Arc<App>, publisher: Pub, c: ContainerRef) {
    let mut stream = match app.service.stats_stream(&c).await {
        Ok(s) => s,
        Err(e) => return publisher.end(close_for(&e)),
    };
    loop {
        let raw = match stream.next_value().await {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => return publisher.end(close_for(&e)),
        };
        let Ok(sample) = serde_json::from_slice::<models::Stats>(&raw) else {
            continue;
        };
        if sample.read == NOT_RUNNING || sample.read.is_empty() {
            return publisher.end(Close::new(1000, "Container stopped"));
        }
        let msg = StatsSample {
            figures: figures(&sample),
            pids: sample.pids_stats.current.unwrap_or(0),
            timestamp: sample.read,
        };
        publisher.publish(serde_json::to_string(&msg).unwrap_or_default());
    }
    publisher.end(after_stream(&app, &c.id, "Stats stream interrupted; reconnect to resume").await);
}

/// An event of our own, shaped like Docker's, for connection changes.
fn agent_event(action: &str, reason: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    json!({
        "Type": "agent",
        "Action": action,
        "Actor": {"ID": "docker-agent", "Attributes": {"reason": reason}},
        "scope": "local",
        "time": nanos / 1_000_000_000,
        "timeNano": nanos,
    })
    .to_string()
}

/// Backoff between reconnection attempts.
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

async fn pump_events(app: Arc<App>, publisher: Pub, filters: EventFilters) {
    let mut since: Option<String> = None;
    let mut down = false;
    let mut retry = RETRY_MIN;
    loop {
        match app.service.events(&filters, since.as_deref()).await {
            Ok(mut stream) => {
                if down {
                    publisher.publish(agent_event(
                        "docker-reconnected",
                        "Docker daemon is reachable again",
                    ));
                    down = false;
                }
                retry = RETRY_MIN;
                while let Ok(Some(raw)) = stream.next_value().await {
                    if let Ok(event) = serde_json::from_slice::<Value>(&raw) {
                        if let Some(t) = event.get("timeNano").and_then(Value::as_u64) {
                            let next = t + 1;
                            since = Some(format!(
                                "{}.{:09}",
                                next / 1_000_000_000,
                                next % 1_000_000_000
                            ));
                        }
                        publisher.publish(String::from_utf8_lossy(&raw).into_owned());
                    }
                }
            }
            Err(e @ (Error::DockerFailed(_) | Error::Conflict(_))) => {
                return publisher.end(Close::new(1008, e.message()));
            }
            Err(_) => {}
        }
        if !down {
            publisher.publish(agent_event(
                "docker-disconnected",
                "Docker daemon connection lost; reconnecting",
            ));
            down = true;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options_defaults_and_validation() {
        let opts = log_options(&mut Query::parse(Some("token=x"))).unwrap();
        assert_eq!(
            opts,
            LogOptions {
                tail: 50,
                since: None,
                timestamps: false,
                stdout: true,
                stderr: true
            }
        );
        let opts = log_options(&mut Query::parse(Some(
            "tail=5&stream=stderr&timestamps=true&since=2024-01-01T00:00:00Z",
        )))
        .unwrap();
        assert_eq!(
            (opts.tail, opts.stdout, opts.stderr, opts.timestamps),
            (5, false, true, true)
        );
        assert_eq!(opts.since.as_deref(), Some("1704067200"));
        assert_eq!(
            log_options(&mut Query::parse(Some("since=1704067200.5")))
                .unwrap()
                .since
                .as_deref(),
            Some("1704067200.5")
        );
        for bad in [
            "since=.",
            "since=1.",
            "since=.5",
            "tail=-1",
            "tail=x",
            "stream=stdin",
            "since=yesterday",
            "timestamps=sometimes",
        ] {
            let err = log_options(&mut Query::parse(Some(bad))).unwrap_err();
            assert_eq!(close_for(&err).code, 1008, "{bad}");
        }
    }

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
        assert_eq!(close_for(&Error::DockerFailed("x".into())).code, 1011);
    }

    #[test]
    fn agent_events_look_like_docker_events() {
        let v: Value = serde_json::from_str(&agent_event("docker-disconnected", "why")).unwrap();
        assert_eq!(v["Type"], "agent");
        assert_eq!(v["Action"], "docker-disconnected");
        assert!(v["timeNano"].as_u64().unwrap() > 0);
    }
}
