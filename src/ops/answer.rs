//! What running an operation yields, for each surface to send its own way.

use crate::contract::{ContainerLogs, ExecResult};
use crate::error::Error;
use crate::service::exec::Terminal;
use crate::service::logs::LogTurn;
use crate::service::pull::Pull;
use crate::streams::Sub;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// An operation's answer.
pub enum Answer {
    /// A JSON document.
    Json(Json),
    /// A log read, with the turn that read it (kept until it is sent).
    Logs(ContainerLogs, LogTurn),
    /// A command's exit code and output.
    Exec(ExecResult),
    /// A pull begun: its progress, then its summary.
    Pull(Pull),
    /// A stream joined.
    Stream(Sub),
    /// An interactive command started, and Docker's connection to its TTY.
    Terminal(Terminal, TokioIo<Upgraded>),
}

/// A JSON document: its text (the typed value written in its fields'
/// order) and the part of it the v1 contract's MCP tools printed as their
/// text, when not the whole (a list's items).
pub struct Json {
    pub text: String,
    pub shown: Option<String>,
}

fn text<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|_| Error::Internal)
}

impl Answer {
    /// `value` as a JSON document.
    pub fn json<T: Serialize>(value: &T) -> Result<Answer, Error> {
        Ok(Answer::Json(Json {
            text: text(value)?,
            shown: None,
        }))
    }

    /// `whole` as a JSON document, `shown` as what MCP's text shows of it.
    pub fn json_showing<T: Serialize, S: Serialize + ?Sized>(
        whole: &T,
        shown: &S,
    ) -> Result<Answer, Error> {
        Ok(Answer::Json(Json {
            text: text(whole)?,
            shown: Some(text(shown)?),
        }))
    }
}
