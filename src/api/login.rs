//! `POST /auth/login`: validates `{"username", "password"}` as the v1
//! contract does (strings of 1–100 characters, FastAPI's 422 shape for every bad
//! field) and exchanges them for a token. A wrong pair counts as a failed
//! credential ([`crate::limit`]). Every attempt with a well-formed body is
//! recorded in the audit trail: as `user:NAME` when the name is the login
//! user, else as `anonymous` (an unknown name may be a password typed in
//! the wrong field). The submitted values are never echoed back or logged.

use crate::app::App;
use crate::audit::{Action, Context, Record, Subject, Surface};
use crate::contract::Token;
use crate::error::{Error, FieldError};
use crate::http::body::{self, Body, MAX_REQUEST_BODY};
use crate::limit::Attempt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::net::IpAddr;

pub async fn login(
    app: &App,
    req: Request<Incoming>,
    client: IpAddr,
) -> Result<Response<Body>, Error> {
    let ctx = req.extensions().get::<Context>().cloned();
    let deadline = app.config.server.header_read_timeout;
    let (_, bytes) = body::read_request(req, MAX_REQUEST_BODY, deadline).await?;
    let (username, password) = credentials(&bytes)?;
    let token = attempt(app, client, &username, &password);
    let subject = if app.auth.is_user(&username) {
        Subject::User(username)
    } else {
        Subject::Anonymous
    };
    let record = Record::new(ctx.as_ref(), Surface::Rest, Action::Login, subject);
    app.audit.record(record.outcome(&token));
    Ok(body::ok(&token?))
}

/// The token for a login the limiter lets through and the credentials match.
fn attempt(app: &App, client: IpAddr, username: &str, password: &str) -> Result<Token, Error> {
    app.limiter.may_try(client, Attempt::Password)?;
    app.auth.login(username, password).ok_or_else(|| {
        app.limiter.failed(client, Attempt::Password);
        Error::Unauthorized("Invalid username or password")
    })
}

/// Parses and validates the login body.
fn credentials(bytes: &[u8]) -> Result<(String, String), Error> {
    let object = body::json_object(bytes)?;
    let mut errors = Vec::new();
    let mut field = |name: &str| -> String {
        let loc = vec![json!("body"), json!(name)];
        let (kind, msg) = match object.get(name) {
            None => ("missing", "Field required".to_string()),
            Some(Value::String(s)) => match s.chars().count() {
                0 => (
                    "string_too_short",
                    "String should have at least 1 character".into(),
                ),
                101.. => (
                    "string_too_long",
                    "String should have at most 100 characters".into(),
                ),
                _ => return s.clone(),
            },
            Some(_) => ("string_type", "Input should be a valid string".into()),
        };
        errors.push(FieldError::new(loc, kind, msg));
        String::new()
    };
    let (username, password) = (field("username"), field("password"));
    if errors.is_empty() {
        Ok((username, password))
    } else {
        Err(Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests;
