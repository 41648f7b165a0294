//! REST handlers of `/api/v1`: each route parses its inputs, calls one
//! service method and answers JSON. Parameter limits are the original's:
//! `all` (default true), `tail` 1..10000 (default 100), `timeout` 0..300
//! (default 10).

mod login;

use crate::app::App;
use crate::auth::jwt::Claims;
use crate::error::Error;
use crate::http::body::{self, Body, ok};
use crate::http::query::Query;
use crate::http::router::{Action, Route};
use crate::models::AuthCheck;
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
    claims: Option<Claims>,
) -> Result<Response<Body>, Error> {
    let mut q = Query::parse(req.uri().query());
    let s = &app.service;
    Ok(match route {
        Route::Login => return login::login(app, req, client).await,
        // The pipeline hands MCP routes to `crate::mcp`; they never get here.
        Route::Mcp | Route::McpSse | Route::McpMessages => return Err(Error::RouteNotFound),
        Route::LogsWs(_) | Route::StatsWs(_) | Route::EventsWs => {
            return crate::ws::accept(app, route, req);
        }
        Route::AuthCheck => ok(&AuthCheck {
            authenticated: true,
            username: claims.map(|c| c.sub).unwrap_or_default(),
        }),
        Route::Containers => {
            let all = q.bool("all", true);
            q.finish()?;
            ok(&s.list_containers(all).await?)
        }
        Route::Container(id) => ok(&s.container(&id).await?),
        Route::ContainerLogs(id) => {
            let tail = q.int("tail", 100, 1, 10_000);
            q.finish()?;
            let (logs, turn) = s.logs(&id, tail as u32, LOG_LIMIT).await?;
            body::json_held(StatusCode::OK, &logs, turn)
        }
        Route::ContainerAction(id, action) => ok(&match action {
            Action::Start => s.start(&id).await?,
            Action::Stop => s.stop(&id).await?,
            Action::Restart => {
                let timeout = q.int("timeout", 10, 0, 300);
                q.finish()?;
                s.restart(&id, timeout as u32).await?
            }
        }),
        Route::Stats(id) => ok(&s.stats(&id).await?),
        Route::Images => ok(&s.list_images().await?),
        Route::Version => ok(&s.version().await?),
        Route::Healthz => ok(&s.health().await),
        Route::Health => ok(&s.enhanced_health().await),
    })
}
