//! `POST /containers/{id}/exec`: runs a command to its end and answers
//! `{exit_code, stdout, stderr, truncated, timed_out}`. Whether the caller
//! may run commands at all is asked first, so with `EXEC_ENABLED` off (or
//! the wrong role, or a read-only mode) every request is a 403 whatever
//! its body; the body's fields are [`ExecRequest`]'s.

use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body, ok};
use crate::policy::{Caller, Op};
use crate::service::exec::request::ExecRequest;
use hyper::body::Incoming;
use hyper::{Request, Response};

pub async fn exec(
    app: &App,
    caller: &Caller,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, Error> {
    app.service.permit(caller, Op::EXEC)?;
    let deadline = app.config.server.header_read_timeout;
    let request = ExecRequest::read(&body::read_object(req, deadline).await?, "body", &[])?;
    Ok(ok(&app.service.exec(caller, id, &request).await?))
}
