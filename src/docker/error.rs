//! What can go wrong talking to Docker, kept close to what Docker said:
//! the status and its `{"message": ...}` survive so the service layer can
//! map them (404 → not found, 409 → conflict, ...). Messages here may hold
//! internal detail (socket paths); they are logged, not sent to clients,
//! except Docker's own message about the user's container.

use std::fmt;

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
