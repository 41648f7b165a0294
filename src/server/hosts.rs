//! The pipeline's part in the fleet: a request for a named host
//! (`/api/v1/hosts/{host}/…`) is served here when the host is this one,
//! and otherwise drawn from the caller's rate limit, sent on to its owner
//! ([`crate::fleet::forward`]) and, when it changes something, recorded
//! in this agent's audit trail with where it went. On the fleet port, a
//! peer's request carries the peer ([`FleetPeer`]): its `X-Forwarded-For`
//! names the caller, its `X-Forwarded-Host` the host the caller asked for,
//! the audit trail records through whom it came, and `/fleet/v1/identity`
//! answers it.

use crate::app::App;
use crate::audit::{Action, Outcome, Record, Subject, Surface};
use crate::error::Error;
use crate::fleet::{Target, forward, identity};
use crate::http::body::{self, Body};
use crate::http::credential::{Carrier, credential};
use crate::router;
use crate::tls::FleetPeer;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, Uri};
use std::net::IpAddr;
use std::sync::Arc;

/// Why a forwarded request naming yet another host is refused.
pub const ONCE: &str = "A request forwarded by an agent of the fleet is served by the host \
    it was sent to, never forwarded again";

/// What became of a request that may name a host.
pub enum Routed {
    /// It is for this host: serve it (its path now this host's own).
    Here(Request<Incoming>),
    /// It was another host's, and this is its answer.
    Answered(Response<Body>),
}

/// Serves or forwards a request for a named host; any other request is
/// handed back as it came.
pub async fn route(
    app: &Arc<App>,
    mut req: Request<Incoming>,
    client: IpAddr,
) -> Result<Routed, Error> {
    let Some((host, Some(inner))) = forward::split(req.uri().path()) else {
        return Ok(Routed::Here(req));
    };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{inner}?{q}"),
        None => inner.clone(),
    };
    let (member, name) = match app.fleet.target(&host)? {
        Target::Local => {
            *req.uri_mut() = path_and_query
                .parse::<Uri>()
                .map_err(|_| Error::BadRequest("the path is not a valid URI".into()))?;
            return Ok(Routed::Here(req));
        }
        // Forwarded once only: the owner serves, it never sends on.
        Target::Remote(..) if peer(&req).is_some() => return Err(Error::BadRequest(ONCE.into())),
        Target::Remote(member, name) => (member, name),
    };
    let class = router::resolve(req.method(), &inner, app.config.mcp.enabled)
        .ok()
        .and_then(|r| r.class())
        .unwrap_or(crate::limit::Class::Read);
    app.limiter.check(client, class).map_err(Error::from)?;
    let stream = req.headers().contains_key(hyper::header::UPGRADE);
    let record = (req.method() != Method::GET || stream).then(|| {
        let ctx = req.extensions().get();
        Record::new(ctx, Surface::Rest, Action::Forward, subject(app, &req)).forwarded_to(&name)
    });
    let result = forward::forward(&member, &name, req, &path_and_query, client).await;
    if let Some(record) = record {
        app.audit.record(match &result {
            Ok((resp, _)) => answered(record, resp.status().as_u16()),
            Err(e) => record.refusal(e),
        });
    }
    let (response, pipe) = result?;
    if let Some(pipe) = pipe {
        let (guard, mut closing) = (app.track_stream(), app.closing());
        tokio::spawn(async move {
            tokio::select! {
                () = pipe => {}
                _ = closing.wait_for(|c| *c) => {}
            }
            drop(guard);
        });
    }
    Ok(Routed::Answered(response))
}

/// Who the request's credential names here, if this agent knows it: the
/// audit trail's subject (the owner decides whether it is accepted).
fn subject(app: &App, req: &Request<Incoming>) -> Subject {
    let carrier = match req.headers().contains_key(hyper::header::UPGRADE) {
        true => Carrier::StreamToken,
        false => Carrier::Header,
    };
    credential(req.headers(), req.uri().query(), carrier)
        .and_then(|token| app.policy.identify(&app.auth, &token, Surface::Rest).ok())
        .map_or(Subject::Anonymous, |caller| caller.subject())
}

/// The record of a forwarded request the owner answered `status`.
fn answered(mut record: Record, status: u16) -> Record {
    record.result = match status {
        401 | 403 => Outcome::Denied,
        500.. => Outcome::Failed,
        400.. => Outcome::Refused,
        _ => Outcome::Ok,
    };
    if status >= 400 {
        record.reason = Some(format!("the host answered {status}"));
    }
    record
}

/// The caller of a request a peer forwarded: the last `X-Forwarded-For`
/// entry (the peer's own word for its caller), else the peer.
pub fn forwarded_client(req: &Request<Incoming>, peer: IpAddr) -> IpAddr {
    req.headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok())
        .unwrap_or(peer)
}

/// A peer's request as its caller made it: the host the caller asked for
/// (`X-Forwarded-Host`, the front door as the caller named it) becomes its
/// `Host`, so a browser's stream is held to the origin its page came from.
pub fn as_asked(req: &mut Request<Incoming>) {
    if let Some(asked) = req.headers_mut().remove(forward::FORWARDED_HOST) {
        req.headers_mut().insert(hyper::header::HOST, asked);
    }
}

/// `/fleet/v1/identity`, for a peer on the fleet port.
async fn identity(app: &App, req: &Request<Incoming>) -> Result<Response<Body>, Error> {
    if req.method() != Method::GET {
        return Err(Error::MethodNotAllowed("GET"));
    }
    let nonce = identity::nonce(req.uri().query())
        .ok_or_else(|| Error::BadRequest("nonce: 1 to 64 hex digits".into()))?;
    Ok(body::ok(&app.fleet.identity(nonce).await))
}

/// The fleet's own endpoints, served to peers on the fleet port only:
/// who this agent is, and a member behind NAT joining.
pub async fn fleet_endpoint(
    app: &Arc<App>,
    req: Request<Incoming>,
    from: IpAddr,
) -> Option<Result<Response<Body>, Error>> {
    match req.uri().path() {
        identity::PATH => Some(identity(app, &req).await),
        JOIN => Some(join(app, req, from)),
        _ => None,
    }
}

/// Where a member behind NAT asks to join (`FLEET_JOIN`).
pub const JOIN: &str = "/fleet/v1/join";

/// The upgrade a joining member asks for.
pub const JOIN_PROTOCOL: &str = "docker-agent-join";

/// A member behind NAT (`?id=` its daemon's id) turns the connection it
/// opened into one this agent sends requests on: `101`, then the roles
/// are reversed.
fn join(app: &Arc<App>, mut req: Request<Incoming>, from: IpAddr) -> Result<Response<Body>, Error> {
    let asked = req
        .headers()
        .get(hyper::header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(JOIN_PROTOCOL.as_bytes()));
    if req.method() != Method::GET || !asked {
        return Err(Error::UpgradeRequired);
    }
    let key = crate::http::query::Query::parse(req.uri().query())
        .get("id")
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .map(str::to_string)
        .ok_or_else(|| Error::BadRequest("id: the joining daemon's id".into()))?;
    let upgrade = hyper::upgrade::on(&mut req);
    let fleet = app.fleet.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let from = crate::membership::Address {
            host: from.to_string(),
            port: 0,
        };
        let io = Box::new(hyper_util::rt::TokioIo::new(upgraded));
        fleet.joined(&key, from, io).await;
    });
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let headers = resp.headers_mut();
    headers.insert(
        hyper::header::UPGRADE,
        hyper::header::HeaderValue::from_static(JOIN_PROTOCOL),
    );
    headers.insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("upgrade"),
    );
    Ok(resp)
}

/// The peer a fleet-port request came through.
pub fn peer(req: &Request<Incoming>) -> Option<Arc<FleetPeer>> {
    req.extensions().get::<Arc<FleetPeer>>().cloned()
}
