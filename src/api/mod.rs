//! REST handlers of `/api/v1`: each route parses its inputs, calls one
//! service method on behalf of the caller and answers JSON. A query
//! parameter the route does not take ([`Route::params`]) is refused here,
//! once for every route, before the handler runs (streams refuse theirs
//! after the upgrade). Parameter limits are the original's: `all` (default
//! true), `timeout` 0..300 (default 10, on stop as on restart); `force` and
//! `volumes` on removals (default false). The log parameters are the logs
//! stream's ([`Query::log_options`]), with the original's `tail` default, 100.

mod exec;
mod login;
mod openapi;
mod pull;

use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body, ok};
use crate::http::query::Query;
use crate::http::router::{Action, Guard, Route};
use crate::models::AuthCheck;
use crate::policy::{Caller, Op};
use crate::service::STOP_TIMEOUT;
use crate::service::filters::ContainerFilters;
use crate::service::kill;
use crate::service::logs::{LogLimit, LogRead, MAX_LOG_BYTES};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// Log lines a REST read takes when `tail` is not given.
const LOG_TAIL: u32 = 100;

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
    if route.guard() != Guard::StreamToken {
        q.only(route.params().unwrap_or_default())?;
    }
    let s = &app.service;
    let Some(caller) = caller else {
        return match route {
            Route::Login => login::login(app, req, client).await,
            Route::Healthz => Ok(ok(&s.health().await)),
            Route::Ui(asset) => Ok(crate::ui::serve(asset)),
            Route::OpenApi => Ok(openapi::document()),
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
            role: caller.role.name(),
            read_only: app.policy.modes().0 || caller.restrictions.read_only,
            can_operate: app.policy.decide(c, Op::START, None).allowed(),
        }),
        Route::Containers => {
            let all = q.bool("all", true);
            let strings = |name| q.all(name).into_iter().map(str::to_string).collect();
            let filters =
                ContainerFilters::new(strings("label"), strings("name"), strings("status"));
            q.finish()?;
            ok(&s.list_containers(c, all, &filters?).await?)
        }
        Route::Container(id) => ok(&s.container(c, &id).await?),
        Route::ContainerLogs(id) => {
            let read = LogRead::from(q.log_options(LOG_TAIL));
            q.finish()?;
            let (logs, turn) = s.logs(c, &id, &read, LOG_LIMIT).await?;
            body::json_held(StatusCode::OK, &logs, turn)
        }
        Route::ContainerAction(id, action) => {
            let timeout = q.int("timeout", STOP_TIMEOUT.into(), 0, 300) as u32;
            let signal = kill::signal(q.get("signal").unwrap_or(kill::DEFAULT_SIGNAL));
            q.finish()?;
            ok(&match action {
                Action::Start => s.start(c, &id).await?,
                Action::Stop => s.stop(c, &id, timeout).await?,
                Action::Restart => s.restart(c, &id, timeout).await?,
                Action::Pause => s.pause(c, &id).await?,
                Action::Unpause => s.unpause(c, &id).await?,
                Action::Kill => s.kill(c, &id, &signal?).await?,
            })
        }
        Route::CreateContainer => {
            q.finish()?;
            let deadline = app.config.server.header_read_timeout;
            let spec = body::read_object(req, deadline).await?;
            body::json(StatusCode::CREATED, &s.create(c, &spec).await?)
        }
        Route::RemoveContainer(id) => {
            let (force, volumes) = (q.bool("force", false), q.bool("volumes", false));
            q.finish()?;
            ok(&s.remove(c, &id, force, volumes).await?)
        }
        Route::RemoveImage(image) => {
            let force = q.bool("force", false);
            q.finish()?;
            ok(&s.remove_image(c, &image, force).await?)
        }
        Route::Exec(id) => {
            q.finish()?;
            exec::exec(app, c, &id, req).await?
        }
        Route::Stats(id) => ok(&s.stats(c, &id).await?),
        Route::Images => ok(&s.list_images(c).await?),
        Route::ImagesPull => return pull::pull(app, c, req).await,
        Route::Volumes => ok(&s.list_volumes(c).await?),
        Route::Networks => ok(&s.list_networks(c).await?),
        Route::Version => ok(&s.version(c).await?),
        Route::Health => ok(&s.enhanced_health(c).await?),
        Route::Metrics => {
            let containers = s.container_metrics(c).await?;
            body::text(
                crate::metrics::CONTENT_TYPE,
                crate::metrics::render(app, &containers),
            )
        }
        // Open routes come without a caller, and the pipeline hands MCP
        // routes to `crate::mcp`: none of these gets here.
        Route::Login
        | Route::Healthz
        | Route::OpenApi
        | Route::LogsWs(_)
        | Route::StatsWs(_)
        | Route::EventsWs
        | Route::ExecWs(_)
        | Route::Ui(_)
        | Route::Mcp
        | Route::McpSse
        | Route::McpMessages => return Err(Error::RouteNotFound),
    })
}
