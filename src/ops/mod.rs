//! The operation catalogue: every operation the agent performs on Docker,
//! each defined once, in its own file — its typed request (its inputs with
//! their limits and defaults, read by the one [`Input`] reader), its policy
//! [`Op`] (role, what it changes, its audit action), its REST route, its
//! MCP tool (name, title, annotations, schemas) and its OpenAPI path item,
//! and one function that runs it for a caller. REST dispatch, the MCP tool
//! call and the WebSocket streams only look operations up here, so a new
//! operation is its own file and one line in [`CATALOGUE`].
//!
//! Running an operation yields an [`Answer`], which each surface sends its
//! own way: a JSON document (REST's body, MCP's structured content and
//! text), a log read, an exec's output, a pull's progress, or a stream.

mod answer;

pub mod actions;
mod containers;
mod create;
mod exec;
mod follow;
mod hosts;
mod images;
pub mod logs;
mod remove;
mod stats;
mod system;
mod top;
mod volumes;

pub use crate::input::{Input, Place, Range};
pub use actions::START_OP as OPERATE;
pub use answer::{Answer, Json};
pub use containers::{INSPECT, LIST as LIST_CONTAINERS};
pub use images::LIST as LIST_IMAGES;
pub use logs::LOGS;
pub use stats::STATS;
pub use system::HEALTH;

use crate::app::App;
use crate::contract::ContainerLogs;
use crate::error::Error;
use crate::policy::{Caller, Op};
use crate::service::logs::LogLimit;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// An operation's REST route: `GET /api/v1/containers/{id}/top`. In the
/// path, `{name}` is one segment and `{name*}` the rest of the path
/// (an image reference with its `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rest {
    pub method: &'static str,
    pub path: &'static str,
    /// The status of a success (`201` for a create).
    pub status: u16,
    /// It takes a JSON body.
    pub body: bool,
}

impl Rest {
    pub const fn get(path: &'static str) -> Rest {
        Rest {
            method: "GET",
            path,
            status: 200,
            body: false,
        }
    }

    pub const fn post(path: &'static str) -> Rest {
        Rest {
            method: "POST",
            ..Rest::get(path)
        }
    }

    pub const fn delete(path: &'static str) -> Rest {
        Rest {
            method: "DELETE",
            ..Rest::get(path)
        }
    }

    /// The same, with a JSON body, answering `status`.
    pub const fn with_body(self, status: u16) -> Rest {
        Rest {
            body: true,
            status,
            ..self
        }
    }
}

/// How much log text fits in an answer shaped like `skeleton` (a log
/// answer with its text empty): how an MCP answer fits a log read into the
/// room it has.
pub type LogFit<'a> = &'a (dyn Fn(&ContainerLogs) -> LogLimit + Sync);

/// Who runs an operation, and how its surface fits a log read.
pub struct Cx<'a> {
    pub app: &'a Arc<App>,
    pub caller: &'a Caller,
    /// The credential the caller presented, as presented: what a read of
    /// every host of the fleet sends on, for each owner to judge.
    pub credential: Option<&'a str>,
    /// On MCP, how a log read is fitted to the answer's room; `None` on
    /// REST and the streams, which send one JSON string of logs.
    pub log_fit: Option<LogFit<'a>>,
}

/// An operation's answer, still to come.
pub type Pending<'a> = Pin<Box<dyn Future<Output = Result<Answer, Error>> + Send + 'a>>;

/// Runs an operation: reads its request from the input, then does it.
pub type Run = for<'a> fn(&'a Cx<'a>, Input<'a>) -> Pending<'a>;

/// One operation of the catalogue (see the module doc).
pub struct Operation {
    /// Its name: the MCP tool's, for a tool.
    pub name: &'static str,
    pub op: Op,
    /// Its REST route, if it has one.
    pub rest: Option<Rest>,
    /// Its WebSocket stream's path, if it is a stream.
    pub stream: Option<&'static str>,
    /// Its MCP tool definition (JSON text), if it is a tool.
    pub tool: Option<&'static str>,
    /// Its OpenAPI path item (JSON text, `{"<path>": {"<method>": …}}`), on REST.
    pub openapi: Option<&'static str>,
    pub run: Run,
}

/// Every operation, in the order MCP lists the tools (the v1 contract's
/// ten first).
pub static CATALOGUE: &[&Operation] = &[
    &system::HEALTH,
    &system::VERSION,
    &containers::LIST,
    &containers::INSPECT,
    &logs::LOGS,
    &stats::STATS,
    &images::LIST,
    &actions::START,
    &actions::STOP,
    &actions::RESTART,
    &images::PULL,
    &create::CREATE,
    &remove::CONTAINER,
    &remove::IMAGE,
    &actions::PAUSE,
    &actions::UNPAUSE,
    &actions::KILL,
    &volumes::VOLUMES,
    &volumes::NETWORKS,
    &hosts::HOSTS,
    &top::TOP,
    &exec::EXEC,
    &follow::LOGS,
    &follow::STATS,
    &follow::EVENTS,
    &exec::TERMINAL,
];

/// The reads `?host=*` asks of every host of the fleet at once
/// ([`crate::fleet::merge`]).
pub static FLEET_WIDE: [&Operation; 5] = [
    &containers::LIST,
    &images::LIST,
    &volumes::VOLUMES,
    &volumes::NETWORKS,
    &system::HEALTH,
];

/// The operation whose MCP tool is `name`.
pub fn tool(name: &str) -> Option<&'static Operation> {
    CATALOGUE
        .iter()
        .copied()
        .find(|o| o.tool.is_some() && o.name == name)
}

/// Every MCP tool's definition, in catalogue order.
pub fn tools() -> impl Iterator<Item = (&'static Operation, Value)> {
    CATALOGUE.iter().filter_map(|o| {
        let definition = serde_json::from_str(o.tool?).ok()?;
        Some((*o, definition))
    })
}

/// Runs `operation` for `cx` on `input`.
pub async fn run<'a>(
    operation: &Operation,
    cx: &'a Cx<'a>,
    input: Input<'a>,
) -> Result<Answer, Error> {
    (operation.run)(cx, input).await
}
