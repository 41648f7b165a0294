//! The one error type every surface (REST, WebSocket, MCP) reports, and its
//! mapping to an HTTP status and a JSON `{"detail": ...}` body.
//!
//! Details are written for the client and never carry internals (socket
//! paths, stack traces): the Docker-side reason is logged instead, except
//! Docker's own message about the user's container on conflicts and
//! failed actions, which the user needs in order to act.

use serde_json::{Value, json};

/// Longest user-supplied text echoed back in an error.
const MAX_ECHO: usize = 128;
/// Longest Docker message passed on.
const MAX_DOCKER_MESSAGE: usize = 512;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    ContainerNotFound(String),
    /// An image the daemon does not have (it is never pulled implicitly).
    ImageNotFound(String),
    /// An image its registry does not have: a pull's 404.
    ImageNotInRegistry(String),
    /// A registry refused a pull's credentials (or asked for some): its message.
    RegistryDenied(String),
    AmbiguousContainer(String),
    Conflict(String),
    DockerUnavailable,
    DockerTimeout,
    DockerFailed(String),
    Validation(Vec<FieldError>),
    Unauthorized(&'static str),
    Forbidden(&'static str),
    /// The policy refuses the caller this operation (role, read-only mode).
    Denied(String),
    /// A stop or restart of the container the agent runs in.
    OwnContainer(String),
    RouteNotFound,
    /// An MCP session id that is unknown, ended or expired.
    UnknownSession,
    /// A bounded resource (sessions, in-flight requests) is full.
    Busy(&'static str),
    MethodNotAllowed(&'static str),
    PayloadTooLarge(usize),
    /// Request headers over this many bytes in total.
    HeadersTooLarge(usize),
    RequestTimeout,
    TooManyRequests {
        retry_after: u64,
    },
    /// The client already holds `MAX_CONNECTIONS_PER_CLIENT` connections.
    TooManyConnections {
        limit: usize,
    },
    /// The caller already has this many stops and restarts in progress.
    TooManyActions {
        limit: usize,
    },
    BadRequest(String),
    UpgradeRequired,
    /// No host of the fleet goes by this name, id or id prefix.
    UnknownHost(String),
    /// Several hosts answer to this name or id prefix: they are listed.
    AmbiguousHost(String, Vec<String>),
    /// The host's agent cannot be reached now: which host, and why.
    HostUnreachable(String, String),
    Internal,
}

/// One entry of a 422 detail list, in FastAPI's shape: `{type, loc, msg}`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub loc: Vec<Value>,
    pub msg: String,
    pub kind: &'static str,
}

impl FieldError {
    pub fn new(loc: Vec<Value>, kind: &'static str, msg: impl Into<String>) -> FieldError {
        FieldError {
            loc,
            msg: msg.into(),
            kind,
        }
    }

    pub fn query(name: &str, kind: &'static str, msg: impl Into<String>) -> FieldError {
        FieldError::new(vec![json!("query"), json!(name)], kind, msg)
    }

    fn to_json(&self) -> Value {
        json!({"type": self.kind, "loc": self.loc, "msg": self.msg})
    }
}

/// `s` cut to `max` characters, with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl Error {
    pub fn status(&self) -> u16 {
        match self {
            Error::RegistryDenied(_) => 401,
            Error::ImageNotFound(_)
            | Error::ImageNotInRegistry(_)
            | Error::ContainerNotFound(_)
            | Error::RouteNotFound
            | Error::UnknownHost(_)
            | Error::UnknownSession => 404,
            Error::AmbiguousHost(..) => 400,
            Error::HostUnreachable(..) => 502,
            Error::Busy(_) => 503,
            Error::Conflict(_) | Error::OwnContainer(_) => 409,
            Error::AmbiguousContainer(_) => 400,
            Error::DockerUnavailable => 503,
            Error::DockerTimeout => 504,
            Error::DockerFailed(_) => 502,
            Error::Validation(_) => 422,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) | Error::Denied(_) => 403,
            Error::MethodNotAllowed(_) => 405,
            Error::PayloadTooLarge(_) => 413,
            Error::HeadersTooLarge(_) => 431,
            Error::RequestTimeout => 408,
            Error::TooManyRequests { .. }
            | Error::TooManyConnections { .. }
            | Error::TooManyActions { .. } => 429,
            Error::BadRequest(_) => 400,
            Error::UpgradeRequired => 426,
            Error::Internal => 500,
        }
    }

    /// The human-readable message (for MCP tool errors and logs).
    pub fn message(&self) -> String {
        match self {
            Error::ContainerNotFound(id) => format!("Container '{}' not found", clip(id, MAX_ECHO)),
            Error::ImageNotFound(image) => format!(
                "Image '{}' not found on this host; the agent never pulls implicitly: pull it first",
                clip(image, MAX_ECHO)
            ),
            Error::ImageNotInRegistry(image) => format!(
                "Image '{}' not found: the registry has no such repository, tag or digest",
                clip(image, MAX_ECHO)
            ),
            Error::RegistryDenied(m) => format!(
                "The registry refused the pull: {}. Send its credentials in auth",
                clip(m, MAX_DOCKER_MESSAGE)
            ),
            Error::AmbiguousContainer(id) => format!(
                "Container reference '{}' is ambiguous: more than one container id starts with it",
                clip(id, MAX_ECHO)
            ),
            Error::Conflict(m) => format!("Conflict: {}", clip(m, MAX_DOCKER_MESSAGE)),
            Error::DockerUnavailable => "Docker service is unavailable".into(),
            Error::DockerTimeout => "Docker did not respond in time".into(),
            Error::DockerFailed(m) => format!(
                "Docker daemon returned an error: {}",
                clip(m, MAX_DOCKER_MESSAGE)
            ),
            Error::Validation(errors) => errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.loc.last().map(|l| l.to_string()).unwrap_or_default(),
                        e.msg
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Error::Unauthorized(m) | Error::Forbidden(m) => (*m).into(),
            Error::Denied(m) => m.clone(),
            Error::OwnContainer(id) => format!(
                "Container '{}' runs this agent: stopping, restarting, killing, pausing, removing or running commands in it through the agent would cut the agent off or reach into it; use docker on the host",
                clip(id, MAX_ECHO)
            ),
            Error::RouteNotFound => "Not Found".into(),
            Error::UnknownSession => "Could not find session".into(),
            Error::Busy(m) => (*m).into(),
            Error::MethodNotAllowed(_) => "Method Not Allowed".into(),
            Error::RequestTimeout => "Request body not received in time".into(),
            Error::PayloadTooLarge(limit) => {
                format!("Request body too large (limit {} KiB)", limit / 1024)
            }
            Error::HeadersTooLarge(limit) => format!(
                "Request headers too large (limit {} KiB and 100 fields)",
                limit / 1024
            ),
            Error::TooManyRequests { .. } => "Too many requests. Please slow down.".into(),
            Error::TooManyConnections { limit } => format!(
                "Too many open connections from your address (limit {limit}); close one and retry"
            ),
            Error::TooManyActions { limit } => format!(
                "Too many stops and restarts in progress for this credential (limit {limit}); \
                 wait for one to finish"
            ),
            Error::BadRequest(m) => m.clone(),
            Error::UpgradeRequired => {
                "This endpoint speaks WebSocket only; send an Upgrade: websocket request".into()
            }
            Error::UnknownHost(host) => format!(
                "No host '{}' in the fleet: GET /api/v1/hosts lists each host's name and id",
                clip(host, MAX_ECHO)
            ),
            Error::AmbiguousHost(host, names) => format!(
                "Host '{}' is ambiguous: it could be {}; use one of these names",
                clip(host, MAX_ECHO),
                names.join(", ")
            ),
            Error::HostUnreachable(host, why) => format!(
                "Host '{}' cannot be reached: {}",
                clip(host, MAX_ECHO),
                clip(why, MAX_DOCKER_MESSAGE)
            ),
            Error::Internal => "Internal server error".into(),
        }
    }

    /// The JSON body: `{"detail": ...}` (plus `retry_after` on 429).
    pub fn body(&self) -> Value {
        match self {
            Error::Validation(errors) => {
                json!({"detail": errors.iter().map(FieldError::to_json).collect::<Vec<_>>()})
            }
            Error::TooManyRequests { .. }
            | Error::TooManyConnections { .. }
            | Error::TooManyActions { .. } => {
                json!({"detail": self.message(), "retry_after": self.retry_after()})
            }
            _ => json!({"detail": self.message()}),
        }
    }

    /// Seconds to wait before retrying, for `429`s.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooManyRequests { retry_after } => Some(*retry_after),
            Error::TooManyConnections { .. } | Error::TooManyActions { .. } => Some(1),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_body_carries_retry_after() {
        let e = Error::TooManyRequests { retry_after: 12 };
        assert_eq!(e.status(), 429);
        assert_eq!(e.body()["retry_after"], 12);
    }

    #[test]
    fn a_client_over_its_connection_cap_is_told_so() {
        let e = Error::TooManyConnections { limit: 128 };
        assert_eq!(e.status(), 429);
        assert_eq!(
            e.body(),
            json!({"detail": "Too many open connections from your address (limit 128); close one and retry", "retry_after": 1})
        );
    }

    #[test]
    fn validation_body_is_a_field_list() {
        let e = Error::Validation(vec![FieldError::query(
            "tail",
            "greater_than_equal",
            "Input should be greater than or equal to 1",
        )]);
        assert_eq!(
            e.body(),
            json!({"detail": [{"type": "greater_than_equal", "loc": ["query", "tail"], "msg": "Input should be greater than or equal to 1"}]})
        );
    }

    #[test]
    fn policy_refusals_are_403_and_409() {
        assert_eq!(Error::Denied("no".into()).status(), 403);
        assert_eq!(Error::Denied("no".into()).body(), json!({"detail": "no"}));
        let own = Error::OwnContainer("agent".into());
        assert_eq!(own.status(), 409);
        assert!(
            own.message().contains("'agent' runs this agent"),
            "{}",
            own.message()
        );
    }

    #[test]
    fn echoed_ids_are_clipped() {
        let long = "a".repeat(1000);
        assert!(Error::ContainerNotFound(long).message().len() < 200);
    }
}
