//! The upstream tasks of the logs and stats streams: each reads one Docker
//! stream and publishes to its topic.
//!
//! A log follow that breaks (cut connection, daemon restart) is reopened
//! just after the last line published, so subscribers see neither a gap nor
//! a repeat; while Docker is unreachable the task waits with backoff. The
//! stream ends only when the container has stopped (1000, after its last
//! line), is removed, `until` has passed (1000, after the last line before
//! it), or Docker sends something undecodable (1011, with the reason).

use super::hub::{Close, Item};
use super::{Pub, close_for};
use crate::clock::unix_now_nanos;
use crate::contract::StatsSample;
use crate::docker::models;
use crate::docker::resume::{Position, since_nanos};
use crate::error::Error;
use crate::service::Service;
use crate::service::follow::{LogFollower, LogLine};
use crate::service::stats::figures;
use crate::service::streams::{ContainerRef, LogOptions};
use std::sync::Arc;
use std::time::Duration;

/// Backoff between reconnection attempts.
pub const RETRY_MIN: Duration = Duration::from_millis(250);
pub const RETRY_MAX: Duration = Duration::from_secs(5);

/// How long a follow whose `until` has passed waits for lines stamped
/// before it that are still on their way. Docker ends a follow at `until`
/// only when a later line arrives; a silent one it keeps open.
const UNTIL_GRACE: Duration = Duration::from_secs(1);

/// What to do after a log follow stopped without a decoding error.
enum After {
    Reopen,
    End(Close),
}

/// Follows a container's log into `publisher`, from the start or after `from`.
pub async fn logs(
    service: Arc<Service>,
    publisher: Pub,
    c: ContainerRef,
    opts: LogOptions,
    from: Option<Position>,
) {
    let started = unix_now_nanos();
    let until = opts.until.as_deref().map(nanos);
    let mut pos = from;
    let mut retry = RETRY_MIN;
    let mut first = true;
    loop {
        let ask = if first || pos.is_some() {
            opts.clone()
        } else {
            since_start(&opts, started)
        };
        first = false;
        let (mut delivered, mut clean) = (false, false);
        match service.follow_logs(&c, &ask, pos).await {
            Ok(mut follower) => loop {
                match next_line(&mut follower, until).await {
                    Ok(Some(line)) => {
                        let mut batch = vec![line];
                        follower.drain_ready(&mut batch);
                        pos = batch.last().map(|l| l.pos);
                        delivered = true;
                        let items = batch.into_iter().map(|l| Item::new(l.text, Some(l.pos)));
                        if publisher.publish(items.collect()).await == 0 {
                            return;
                        }
                    }
                    Ok(None) => {
                        clean = true;
                        break;
                    }
                    Err(e @ Error::DockerFailed(_)) => return publisher.end(close_for(&e)),
                    Err(_) => break,
                }
            },
            Err(e @ (Error::DockerUnavailable | Error::DockerTimeout)) => {
                log::debug!(error = e.message().as_str(); "log follow: Docker unreachable; retrying");
            }
            Err(e) => return publisher.end(close_for(&e)),
        }
        if clean && until.is_some_and(|t| unix_now_nanos() >= t) {
            return publisher.end(Close::new(1000, "Reached 'until'"));
        }
        match after_follow(&service, &c.id, clean).await {
            After::End(close) => return publisher.end(close),
            After::Reopen if delivered => retry = RETRY_MIN,
            After::Reopen => {
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// The follow's next line; `Ok(None)` when Docker ends it, or once `until`
/// has passed and no line came for [`UNTIL_GRACE`].
async fn next_line(f: &mut LogFollower, until: Option<u64>) -> Result<Option<LogLine>, Error> {
    let Some(until) = until else {
        return f.next_line().await;
    };
    loop {
        let left = Duration::from_nanos(until.saturating_sub(unix_now_nanos()));
        match tokio::time::timeout(left + UNTIL_GRACE, f.next_line()).await {
            Ok(next) => return next,
            Err(_) if unix_now_nanos() >= until => return Ok(None),
            Err(_) => continue,
        }
    }
}

/// Unix nanoseconds of a time as the options hold it (Unix seconds).
fn nanos(secs: &str) -> u64 {
    secs.parse::<f64>().map_or(0, |s| (s * 1e9) as u64)
}

/// The options for reopening a follow that delivered nothing yet: what
/// was written since it started, whatever the tail.
fn since_start(opts: &LogOptions, started: u64) -> LogOptions {
    let asked = opts.since.as_deref().map_or(0, nanos);
    LogOptions {
        tail: None,
        since: Some(since_nanos(started.max(asked))),
        ..opts.clone()
    }
}

/// After a follow ended (`clean`) or broke: a running container's follow
/// is reopened; a stopped one's too if it broke, to deliver the rest.
async fn after_follow(service: &Service, id: &str, clean: bool) -> After {
    let mut retry = RETRY_MIN;
    loop {
        match service.recheck(id).await {
            Ok(c) if c.running || !clean => return After::Reopen,
            Ok(_) => return After::End(Close::new(1000, "Container stopped")),
            Err(Error::ContainerNotFound(_)) => {
                return After::End(Close::new(1000, "Container removed"));
            }
            Err(Error::DockerUnavailable | Error::DockerTimeout) => {
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
            Err(e) => return After::End(close_for(&e)),
        }
    }
}

/// Docker reports a stopped container's samples with a zero read time.
const NOT_RUNNING: &str = "0001-01-01T00:00:00Z";

/// Streams a container's stats samples into `publisher`.
pub async fn stats(service: Arc<Service>, publisher: Pub, c: ContainerRef) {
    let mut stream = match service.stats_stream(&c).await {
        Ok(s) => s,
        Err(e) => return publisher.end(close_for(&e)),
    };
    loop {
        let raw = match stream.next_value().await {
            Ok(Some(crate::docker::jsonstream::Value::Whole(raw))) => raw,
            Ok(Some(_)) => continue,
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
        let item = Item::new(serde_json::to_string(&msg).unwrap_or_default(), None);
        if publisher.publish(vec![item]).await == 0 {
            return;
        }
    }
    let close = match after_follow(&service, &c.id, true).await {
        After::End(close) => close,
        After::Reopen => Close::new(1011, "Stats stream interrupted; reconnect to resume"),
    };
    publisher.end(close);
}
