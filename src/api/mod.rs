//! REST handlers of `/api/v1`: each route parses its inputs, calls one
//! service method on behalf of the caller and answers JSON. Parameter limits are the original's:
//! `all` (default true), `tail` 1..10000 (default 100), `timeout` 0..300
//! (default 10).

mod exec;
mod login;

use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body, ok};
use crate::http::query::Query;
use crate::http::router::{Action, Route};
use crate::models::AuthCheck;
use crate::policy::Caller;
use crate::service::logs::{LogLimit, MAX_LOG_BYTES};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// Log text in a REST answer: one JSON string of at most [`MAX_LOG_BYTES`].
/// The body keeps the read's turn until it is written.
const LOG_LIMIT: LogLimit = LogLimit {
    bytes: MAX_LOG_BYTES,
    cost: |c| body::escaped_len(c, 1),
};

pub async fn dispatch(
    app: &Arc<App>,
    route: Route,
    req: Request<Incoming>,
    client: std::net::IpAddr,
    caller: Option<Caller>,
) -> Result<Response<Body>, Error> {
    let mut q = Query::parse(req.uri().query());
    let s = &app.service;
    let Some(caller) = caller else {
        return match route {
            Route::Login => login::login(app, req, client).await,
            Route::Healthz => Ok(ok(&s.health().await)),
            Route::LogsWs(_) | Route::StatsWs(_) | Route::EventsWs | Route::ExecWs(_) => {
                crate::ws::accept(app, route, req)
            }
            // Every other route is guarded: the pipeline passes its caller.
            _ => Err(Error::Unauthorized("Not authenticated")),
        };
    };
    let c = &caller;
    Ok(match route {
        Route::AuthCheck => ok(&AuthCheck {
            authenticated: true,
            username: caller.subject.clone(),
        }),
        Route::Containers => {
            let all = q.bool("all", true);
            q.finish()?;
            ok(&s.list_containers(c, all).await?)
        }
        Route::Container(id) => ok(&s.container(c, &id).await?),
        Route::ContainerLogs(id) => {
            let tail = q.int("tail", 100, 1, 10_000);
            q.finish()?;
            let (logs, turn) = s.logs(c, &id, tail as u32, LOG_LIMIT).await?;
            body::json_held(StatusCode::OK, &logs, turn)
        }
        Route::ContainerAction(id, action) => ok(&match action {
            Action::Start => s.start(c, &id).await?,
            Action::Stop => s.stop(c, &id).await?,
            Action::Restart => {
                let timeout = q.int("timeout", 10, 0, 300);
                q.finish()?;
                s.restart(c, &id, timeout as u32).await?
            }
        }),
        Route::Exec(id) => {
            q.finish()?;
            exec::exec(app, c, &id, req).await?
        }
        Route::Stats(id) => ok(&s.stats(c, &id).await?),
        Route::Images => ok(&s.list_images(c).await?),
        Route::Version => ok(&s.version(c).await?),
        Route::Health => ok(&s.enhanced_health(c).await?),
        // Open routes come without a caller, and the pipeline hands MCP
        // routes to `crate::mcp`: none of these gets here.
        Route::Login
        | Route::Healthz
        | Route::LogsWs(_)
        | Route::StatsWs(_)
        | Route::EventsWs
        | Route::ExecWs(_)
        | Route::Mcp
        | Route::McpSse
        | Route::McpMessages => return Err(Error::RouteNotFound),
    })
}
