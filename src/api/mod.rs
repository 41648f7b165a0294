//! The REST surface of `/api/v1`: the agent's own routes (login, the
//! credential check, the liveness probe, the OpenAPI document) and every operation of the catalogue by its REST route — its path's
//! parameters and query string (or JSON body) read by the operation
//! itself, its [`Answer`] sent as JSON (NDJSON for a pull's progress).
//! An operation that takes a body takes no query parameter, and is asked
//! of the policy before its body is read, so a refusal is the same
//! whatever the body holds.

mod login;
mod openapi;

use crate::app::App;
use crate::contract::AuthCheck;
use crate::error::{Error, FieldError};
use crate::http::body::{self, Body, ok};
use crate::http::query::Query;
use crate::input::{Input, no_query};
use crate::ops::{self, Answer, Cx, Operation};
use crate::policy::Caller;
use crate::router::{Params, Route};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// The open REST routes, which need no credential: login, the liveness
/// probe and the OpenAPI document.
pub async fn open(
    app: &Arc<App>,
    route: Route,
    req: Request<Incoming>,
    client: std::net::IpAddr,
) -> Result<Response<Body>, Error> {
    no_query(req.uri().query())?;
    match route {
        Route::Login => login::login(app, req, client).await,
        Route::Healthz => Ok(ok(&app.service.health().await)),
        Route::OpenApi => Ok(openapi::document()),
        // The pipeline hands every other route to its own surface.
        _ => Err(Error::RouteNotFound),
    }
}

/// The guarded REST routes, for the `caller` the pipeline identified: the
/// credential check and every operation's REST route.
pub async fn dispatch(
    app: &Arc<App>,
    route: Route,
    req: Request<Incoming>,
    caller: Caller,
) -> Result<Response<Body>, Error> {
    match route {
        Route::AuthCheck => {
            no_query(req.uri().query())?;
            Ok(ok(&AuthCheck {
                authenticated: true,
                username: caller.subject.clone(),
                role: caller.role.name(),
                read_only: app.policy.modes().0 || caller.restrictions.read_only,
                can_operate: app.policy.decide(&caller, ops::OPERATE, None).allowed(),
            }))
        }
        Route::Op(o, params) => run(app, o, params, req, &caller).await,
        // The pipeline hands every other route to its own surface.
        _ => Err(Error::RouteNotFound),
    }
}

/// Runs the operation `o` of a REST route for `caller` and sends its answer.
async fn run(
    app: &Arc<App>,
    o: &'static Operation,
    params: Params,
    req: Request<Incoming>,
    caller: &Caller,
) -> Result<Response<Body>, Error> {
    let rest = o.rest.ok_or(Error::RouteNotFound)?;
    let presented = crate::http::credential::credential(
        req.headers(),
        None,
        crate::http::credential::Carrier::Header,
    );
    let cx = Cx {
        credential: presented.as_deref(),
        app,
        caller,
        log_fit: None,
    };
    let answer = if rest.body {
        no_query(req.uri().query())?;
        app.service.permit(caller, o.op)?;
        let deadline = app.config.server.header_read_timeout;
        let object = body::read_object(req, deadline).await?;
        ops::run(o, &cx, Input::body(params, &object)).await?
    } else {
        let query = Query::parse(req.uri().query());
        if let Some(host) = query.get("host") {
            return fleet_wide(&cx, o, params, &req, host).await;
        }
        ops::run(o, &cx, Input::query(params, &query)).await?
    };
    let status = StatusCode::from_u16(rest.status).unwrap_or(StatusCode::OK);
    Ok(match answer {
        Answer::Json(json) => body::json_response(status, body::full(json.text)),
        Answer::Logs(logs, turn) => body::json_held(status, &logs, turn),
        Answer::Exec(done) => body::json(status, &done),
        Answer::Pull(pull) => ndjson(pull),
        Answer::Stream(_) | Answer::Terminal(..) => return Err(Error::Internal),
    })
}

/// A read of every host of the fleet (`?host=*`): this host's answer and
/// every member's, asked with the caller's credential, put together.
async fn fleet_wide(
    cx: &Cx<'_>,
    o: &'static Operation,
    params: Params,
    req: &Request<Incoming>,
    host: &str,
) -> Result<Response<Body>, Error> {
    let refuse = |msg: &str| {
        let field = FieldError::new(vec![json!("query"), json!("host")], "value_error", msg);
        Err(Error::Validation(vec![field]))
    };
    if host != "*" {
        return refuse("only * (every host) here: /api/v1/hosts/{host}/… serves one host");
    }
    let context = req.extensions().get::<crate::audit::Context>();
    if context.and_then(|c| c.through()).is_some() {
        return refuse("a request forwarded by an agent of the fleet asks this host alone");
    }
    if !ops::FLEET_WIDE.iter().any(|w| std::ptr::eq(*w, o)) {
        return refuse(
            "host=* is taken by the container, image, volume and network lists and health",
        );
    }
    let rest = without_host(req.uri().query().unwrap_or_default());
    let local = match ops::run(o, cx, Input::query(params, &Query::parse(Some(&rest)))).await? {
        Answer::Json(json) => serde_json::from_str(&json.text).map_err(|_| Error::Internal)?,
        _ => return Err(Error::Internal),
    };
    let path = match rest.is_empty() {
        true => req.uri().path().to_string(),
        false => format!("{}?{rest}", req.uri().path()),
    };
    let client = req
        .extensions()
        .get::<crate::audit::Context>()
        .map_or(std::net::Ipv4Addr::LOCALHOST.into(), |c| c.client());
    let parts = cx.app.fleet.gather(&path, cx.credential, client).await;
    let here = cx.app.fleet.local_name();
    Ok(ok(&crate::fleet::merge::combine(&here, local, parts)))
}

/// A raw query string without its `host` parameters.
fn without_host(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && crate::http::query::percent_decode(name, true) != "host"
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A pull's steps as NDJSON (`application/x-ndjson`), one line each:
/// Docker's progress messages, then `{"summary": …}`. Hyper asks for the
/// next line only as the client reads, so a slow client slows the pull
/// down, and a client gone drops the pull, which cancels it.
fn ndjson(pull: crate::service::pull::Pull) -> Response<Body> {
    let lines = futures_util::stream::unfold(pull, |mut pull| async move {
        let step = pull.next().await?;
        let mut line = serde_json::to_vec(&step).unwrap_or_default();
        line.push(b'\n');
        Some((Ok(Frame::data(Bytes::from(line))), pull))
    });
    let mut resp = Response::new(StreamBody::new(lines).boxed_unsync());
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    resp
}
