//! REST handlers of `/api/v1`: each route parses its inputs, calls one
//! service method and answers JSON. Parameter limits are the original's:
//! `all` (default true), `tail` 1..10000 (default 100), `timeout` 0..300
//! (default 10).

mod login;

use crate::app::App;
use crate::auth::jwt::Claims;
use crate::error::Error;
use crate::http::body::{Body, ok};
use crate::http::query::Query;
use crate::http::router::{Action, Route};
use crate::models::AuthCheck;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::sync::Arc;

pub async fn dispatch(
    app: &Arc<App>,
    route: Route,
    req: Request<Incoming>,
    claims: Option<Claims>,
) -> Result<Response<Body>, Error> {
    let mut q = Query::parse(req.uri().query());
    let s = &app.service;
    Ok(match route {
        Route::Login => return login::login(app, req).await,
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
            ok(&s.logs(&id, tail as u32).await?)
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
