//! The live streams (WebSocket, and MCP's change notifications through
//! [`crate::streams`]): a container's log lines
//! (`/api/v1/logs/ws/{id}`, the log parameters of [`super::logs::options`]
//! with `tail` defaulting to 50), its stats samples
//! (`/api/v1/stats/ws/{id}`), and Docker's events (`/api/v1/events/ws`,
//! filtered by `type`, `event`, `container`, `image`, `label`, `network`
//! and `volume`, each repeated or comma-separated, as Docker takes them).

use super::{Answer, Cx, Input, Operation, Pending};

use crate::policy::Op;
use crate::service::streams::EventFilters;

/// Log lines a stream starts with when `tail` is not given.
const LOG_TAIL: i64 = 50;

/// The events stream's filters, by Docker's names.
pub const EVENT_FILTERS: [&str; 7] = [
    "type",
    "event",
    "container",
    "image",
    "label",
    "network",
    "volume",
];

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

pub static LOGS: Operation = Operation {
    name: "follow_logs",
    op: Op::read("follow_logs", "follow_logs"),
    rest: None,
    stream: Some("/api/v1/logs/ws/{id}"),
    tool: None,
    openapi: None,
    run: logs,
};

fn logs<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let opts = super::logs::options(&mut input, LOG_TAIL);
        input.finish()?;
        let c = cx
            .app
            .service
            .follow_target(cx.caller, LOGS.op, &id)
            .await?;
        Ok(Answer::Stream(cx.app.streams.logs(c, opts)))
    })
}

pub static STATS: Operation = Operation {
    name: "follow_stats",
    op: Op::read("follow_stats", "follow_stats"),
    rest: None,
    stream: Some("/api/v1/stats/ws/{id}"),
    tool: None,
    openapi: None,
    run: stats,
};

fn stats<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        input.finish()?;
        let c = cx
            .app
            .service
            .follow_target(cx.caller, STATS.op, &id)
            .await?;
        Ok(Answer::Stream(cx.app.streams.stats(c)))
    })
}

pub static EVENTS: Operation = Operation {
    name: "follow_events",
    op: Op::read("events", "events"),
    rest: None,
    stream: Some("/api/v1/events/ws"),
    tool: None,
    openapi: None,
    run: events,
};

fn events<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let filters = event_filters(&mut input);
        let since = input.time("since").and_then(|t| nanos(&t));
        let every_host = match input.text("host").as_deref() {
            None => false,
            Some("*")
                if cx
                    .caller
                    .context
                    .as_ref()
                    .and_then(|c| c.through())
                    .is_some() =>
            {
                let msg = "a stream opened by an agent of the fleet is of this host alone";
                input.fail("host", "value_error", msg);
                false
            }
            Some("*") => true,
            Some(_) => {
                let msg =
                    "only * (every host) here: /api/v1/hosts/{host}/events/ws serves one host";
                input.fail("host", "value_error", msg);
                false
            }
        };
        input.finish()?;
        cx.app.service.permit(cx.caller, EVENTS.op)?;
        let query = filters_query(&filters);
        let local = cx.app.streams.events(filters, since);
        if !every_host {
            return Ok(Answer::Stream(local));
        }
        let ask = crate::fleet::events::EventsAsk {
            filters: query,
            token: cx.credential.unwrap_or_default().to_string(),
            client: cx.caller.context.as_ref().map_or(
                std::net::Ipv4Addr::LOCALHOST.into(),
                crate::audit::Context::client,
            ),
            since: since.unwrap_or_else(crate::clock::unix_now_nanos),
        };
        let starter = cx.app.fleet.merged_events(local, ask);
        Ok(Answer::Stream(cx.app.streams.own(starter)))
    })
}

/// Unix seconds as [`Input::time`] gives them (`1733490000.5`), in nanoseconds.
fn nanos(secs: &str) -> Option<u64> {
    let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let whole: u64 = whole.parse().ok()?;
    Some(whole.checked_mul(1_000_000_000)? + digits.parse::<u64>().ok()?)
}

/// The filters as the query string of the same stream on another host.
fn filters_query(filters: &EventFilters) -> String {
    let seg = crate::docker::path::segment;
    filters
        .iter()
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |v| format!("{}={}", seg(name), seg(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The events filters: repeated or comma-separated values (labels hold
/// commas, so only repeated), at most 32 of 256 characters each, and
/// `type` among Docker's types.
fn event_filters(input: &mut Input) -> EventFilters {
    let mut filters = EventFilters::new();
    for name in EVENT_FILTERS {
        let values: Vec<String> = input
            .texts(name)
            .iter()
            .flat_map(|v| match name {
                "label" => vec![v.as_str()],
                _ => v.split(',').collect(),
            })
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.len() > 32 || values.iter().any(|v| v.len() > 256) {
            input.fail(name, "too_long", "At most 32 values of 256 characters each");
        } else if name == "type" && values.iter().any(|v| !EVENT_TYPES.contains(&v.as_str())) {
            let msg = format!("Input should be one of {}", EVENT_TYPES.join(", "));
            input.fail(name, "enum", msg);
        } else if !values.is_empty() {
            filters.insert(name.to_string(), values);
        }
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::http::query::Query;

    #[test]
    fn event_filters_accept_repeats_and_commas() {
        let q = Query::parse(Some(
            "type=container&event=start,stop&event=die&label=a=b&label=c&token=t",
        ));
        let mut input = Input::query(Vec::new(), &q);
        input.ignore("token");
        let f = event_filters(&mut input);
        input.finish().unwrap();
        assert_eq!(f["type"], ["container"]);
        assert_eq!(f["event"], ["start", "stop", "die"]);
        assert_eq!(f["label"], ["a=b", "c"]);
        assert!(!f.contains_key("token"));
        let many = (0..40)
            .map(|i| format!("event=e{i}"))
            .collect::<Vec<_>>()
            .join("&");
        let q = Query::parse(Some(&many));
        let mut input = Input::query(Vec::new(), &q);
        event_filters(&mut input);
        assert!(input.finish().is_err());
    }

    #[test]
    fn bad_filters_are_refused() {
        let q = Query::parse(Some("type=nonsense"));
        let mut input = Input::query(Vec::new(), &q);
        event_filters(&mut input);
        let Err(Error::Validation(errs)) = input.finish() else {
            panic!("expected 422")
        };
        assert_eq!(errs[0].kind, "enum");
    }
}
