//! `POST /api/v1/images/pull`: the body read as a [`PullRequest`], the pull
//! begun by the service — refusals and the errors Docker reports before it
//! begins answer as ordinary JSON errors — then its steps streamed as NDJSON
//! (`application/x-ndjson`), one line each: Docker's progress messages, then
//! `{"summary": …}`. Hyper asks for the next line only as the client reads,
//! so a slow client slows the pull down, and a client gone drops the pull,
//! which cancels it.

use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::policy::Caller;
use crate::service::pull::PullRequest;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response};

pub async fn pull(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
) -> Result<Response<Body>, Error> {
    let deadline = app.config.server.header_read_timeout;
    let request = PullRequest::read(&body::read_object(req, deadline).await?, "body")?;
    let pull = app.service.pull(caller, request).await?;
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
    Ok(resp)
}
