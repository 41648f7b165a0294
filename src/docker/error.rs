//! What can go wrong talking to Docker, kept close to what Docker said:
//! the status and its `{"message": ...}` survive, and how each becomes the
//! agent's [`Error`] (404 → not found, 409 → conflict, a registry's
//! refusal → 401, ...). Messages here may hold
//! internal detail (socket paths); they are logged, not sent to clients,
//! except Docker's own message about the user's container.
//!
//! [`Unreachable`] says why the daemon could not be reached in terms an
//! operator can act on: which socket or address, what the OS said
//! (permission denied, not found, refused) and the usual fix.

use super::Endpoint;
use crate::error::Error;
use std::fmt;
use std::io;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerError {
    /// The daemon could not be reached (socket missing, refused, reset).
    Unavailable(String),
    /// No answer within the call's deadline.
    Timeout,
    /// Docker answered with an error status.
    Status { status: u16, message: String },
    /// Docker answered something we cannot read (bad JSON, oversized, bad frames).
    Protocol(String),
}

impl DockerError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, DockerError::Status { status: 404, .. })
    }

    /// Docker refusing our API version ("client version 1.41 is too old").
    pub fn is_version_mismatch(&self) -> bool {
        matches!(self, DockerError::Status { status: 400, message }
            if message.to_ascii_lowercase().contains("client version"))
    }

    /// Docker's answer to an id prefix shared by several containers
    /// (a 500 on Engine 20.10, a 400 on newer engines).
    pub fn is_ambiguous_prefix(&self) -> bool {
        matches!(self, DockerError::Status { message, .. }
            if message.to_ascii_lowercase().contains("multiple ids found"))
    }
}

impl fmt::Display for DockerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerError::Unavailable(why) => write!(f, "Docker unavailable: {why}"),
            DockerError::Timeout => f.write_str("Docker did not answer in time"),
            DockerError::Status { status, message } => {
                write!(f, "Docker returned {status}: {message}")
            }
            DockerError::Protocol(why) => write!(f, "unreadable Docker response: {why}"),
        }
    }
}

impl std::error::Error for DockerError {}

/// Why the daemon could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub endpoint: Endpoint,
    pub cause: Cause,
}

/// What the OS said when the agent tried to reach the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    PermissionDenied,
    NotFound,
    Refused,
    /// Anything else, as the innermost error put it.
    Other(String),
}

impl Unreachable {
    /// Classifies a failed request to `endpoint` by the first I/O error in
    /// its chain of causes.
    pub fn classify(endpoint: &Endpoint, err: &(dyn std::error::Error + 'static)) -> Unreachable {
        let mut innermost = err;
        while !innermost.is::<io::Error>() {
            match innermost.source() {
                Some(source) => innermost = source,
                None => break,
            }
        }
        let cause = match innermost.downcast_ref::<io::Error>().map(io::Error::kind) {
            Some(io::ErrorKind::PermissionDenied) => Cause::PermissionDenied,
            Some(io::ErrorKind::NotFound) => Cause::NotFound,
            Some(io::ErrorKind::ConnectionRefused) => Cause::Refused,
            _ => Cause::Other(innermost.to_string()),
        };
        Unreachable {
            endpoint: endpoint.clone(),
            cause,
        }
    }

    /// The reason without the socket path or address, for the open health probe.
    pub fn summary(&self) -> String {
        let what = match (&self.endpoint, &self.cause) {
            (Endpoint::Unix(_), Cause::PermissionDenied | Cause::NotFound | Cause::Refused) => {
                "cannot open the Docker socket"
            }
            _ => "cannot reach the Docker daemon",
        };
        format!("{what}: {}", self.cause)
    }

    /// What usually fixes it.
    fn fix(&self) -> String {
        match (&self.endpoint, &self.cause) {
            (Endpoint::Unix(path), Cause::PermissionDenied) => format!(
                "run the agent in the socket's group (docker run --group-add $(stat -c %g {})) or set DOCKER_HOST",
                path.display()
            ),
            (Endpoint::Unix(_), Cause::NotFound) => "start the Docker daemon, mount its socket \
                 (docker run -v /var/run/docker.sock:/var/run/docker.sock) or set DOCKER_HOST"
                .into(),
            (Endpoint::Unix(_), Cause::Refused) => {
                "no daemon is listening on it; start the Docker daemon or set DOCKER_HOST".into()
            }
            (Endpoint::Tcp(_), _) => {
                "check that the daemon listens there or set DOCKER_HOST".into()
            }
            (Endpoint::Unix(_), Cause::Other(_)) => {
                "check that the Docker daemon is running or set DOCKER_HOST".into()
            }
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::PermissionDenied => f.write_str("permission denied"),
            Cause::NotFound => f.write_str("not found"),
            Cause::Refused => f.write_str("connection refused"),
            Cause::Other(why) => f.write_str(why),
        }
    }
}

/// The full reason with the socket or address and the fix, for logs and
/// for callers holding a token.
impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.endpoint, &self.cause) {
            (Endpoint::Unix(path), Cause::PermissionDenied | Cause::NotFound | Cause::Refused) => {
                write!(f, "cannot open the Docker socket {}", path.display())?
            }
            (endpoint, _) => write!(f, "cannot reach the Docker daemon at {endpoint}")?,
        }
        write!(f, ": {} — {}", self.cause, self.fix())
    }
}

impl Error {
    /// An error from a call about one container: Docker's 404 becomes "not found".
    pub fn for_container(e: DockerError, id: &str) -> Error {
        if e.is_not_found() {
            Error::ContainerNotFound(id.to_string())
        } else if e.is_ambiguous_prefix() {
            Error::AmbiguousContainer(id.to_string())
        } else {
            Error::from(e)
        }
    }

    /// An error from pulling `image`: Docker's 404 becomes "not found", a
    /// registry's refusal of the credentials a 401 with its message.
    pub fn for_image(e: DockerError, image: &str) -> Error {
        match &e {
            DockerError::Status { status: 404, .. } => Error::ImageNotInRegistry(image.to_string()),
            DockerError::Status { status, message }
                if *status == 401 || registry_denied(message) =>
            {
                Error::RegistryDenied(message.clone())
            }
            _ => Error::from(e),
        }
    }

    /// A stream from Docker that broke off while being read.
    pub fn interrupted(e: hyper::Error) -> Error {
        Error::from(DockerError::Unavailable(format!("stream interrupted: {e}")))
    }

    /// A stream Docker sent that cannot be decoded: it ends, with the reason.
    pub fn corrupt_stream(e: impl std::fmt::Display) -> Error {
        Error::DockerFailed(format!("corrupt stream from Docker: {e}"))
    }
}

/// Whether Docker's message says a registry wanted (other) credentials
/// (Engine 20.10 reports these as a 500).
fn registry_denied(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "unauthorized",
        "no basic auth credentials",
        "authentication required",
        "access denied",
        "denied: ",
    ]
    .iter()
    .any(|s| m.contains(s))
}

impl From<DockerError> for Error {
    fn from(e: DockerError) -> Error {
        log::warn!(docker_error = e.to_string().as_str(); "docker call failed");
        match e {
            DockerError::Unavailable(_) => Error::DockerUnavailable,
            DockerError::Timeout => Error::DockerTimeout,
            DockerError::Status {
                status: 409,
                message,
            } => Error::Conflict(message),
            DockerError::Status { message, .. } => Error::DockerFailed(message),
            DockerError::Protocol(_) => Error::DockerFailed("unreadable response".into()),
        }
    }
}

#[cfg(test)]
mod tests;
