//! Pulling an image: `{image, tag, auth}` read and checked the same way for
//! REST and MCP ([`PullRequest`]), the policy and `IMAGE_ALLOW` asked, and
//! Docker's `POST /images/create` opened — so every refusal, and every error
//! Docker reports before the pull begins (no such image, credentials
//! refused, registry unreachable), is an ordinary error of
//! [`Service::pull`]. The pull itself is then read from the [`Pull`] it
//! returns, one [`Step`] at a time: each progress message as Docker sends
//! it (split by [`JsonSplitter`]), then one summary.
//!
//! Nothing is read from Docker until the next step is asked for, so a slow
//! reader slows the pull down instead of filling a buffer (one Docker chunk
//! and one message at most are held), and dropping the [`Pull`] (a client
//! gone) drops Docker's response, which closes its connection and so
//! cancels the pull in the daemon. The pull is recorded in the audit trail
//! with the image and how it ended, abandoned pulls included. Credentials
//! go to Docker in `X-Registry-Auth` and nowhere else.

use super::Service;
use super::access::record;
use crate::audit::{Audit, Outcome, Record};
use crate::contract::{PullBytes, PullProgress, PullSummary};
use crate::docker::Docker;
use crate::docker::jsonstream::{JsonSplitter, Value as Json};
use crate::docker::models::PullMessage;
use crate::docker::registry_auth::{self, RegistryAuth};
use crate::error::Error;
use crate::input::Input;
use crate::policy::images::{Pin, Reference};
use crate::policy::{Caller, Op};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Longest wait for Docker to begin a pull (it asks the registry for the
/// manifest first).
const START: Duration = Duration::from_secs(120);
/// Longest silence from Docker in the middle of a pull.
const IDLE: Duration = Duration::from_secs(300);
/// Longest credential field accepted.
const MAX_CREDENTIAL: usize = 8192;

/// What a pull asks for.
#[derive(Debug)]
pub struct PullRequest {
    /// With its tag or digest.
    pub reference: Reference,
    pub auth: Option<RegistryAuth>,
}

/// The registry credentials of `auth`, read from its nested object.
fn credentials(input: &mut Input) -> Option<RegistryAuth> {
    let msg =
        "Input should be an object: {username, password} or {identitytoken}, and serveraddress";
    let mut auth = input.nested("auth", msg)?;
    let mut field = |name| auth.string(name, MAX_CREDENTIAL);
    let found = RegistryAuth {
        username: field("username"),
        password: field("password"),
        identitytoken: field("identitytoken"),
        serveraddress: field("serveraddress"),
    };
    if !auth.has("identitytoken") {
        for name in ["username", "password"] {
            if !auth.has(name) {
                auth.fail(
                    name,
                    "missing",
                    "Field required (or give identitytoken instead)",
                );
            }
        }
    }
    input.absorb(auth);
    Some(found)
}

impl PullRequest {
    /// Reads `{image, tag, auth}` from a REST body or MCP arguments; every
    /// bad field is reported (by the input's [`Input::finish`]), and no
    /// other field is accepted. Messages never repeat a credential.
    pub fn read(input: &mut Input) -> Option<PullRequest> {
        input.strict();
        let image = input.string("image", MAX_CREDENTIAL);
        let tag = input.string("tag", MAX_CREDENTIAL);
        let auth = credentials(input);
        let parsed = match image {
            None if !input.has("image") => {
                input.fail("image", "missing", "Field required");
                None
            }
            None => None,
            Some(image) => Reference::parse(&image)
                .map_err(|e| input.fail("image", "value_error", e))
                .ok(),
        };
        let reference = parsed.and_then(|r| {
            r.tagged(tag.as_deref())
                .map_err(|e| input.fail("tag", "value_error", e))
                .ok()
        });
        reference.map(|reference| PullRequest { reference, auth })
    }
}

/// The next thing a pull has to say; serialised, an NDJSON line: the
/// progress object, or `{"summary": …}`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Step {
    Progress(PullProgress),
    /// The last step.
    Done {
        summary: PullSummary,
    },
}

/// A pull under way (see the module doc).
pub struct Pull {
    docker: Arc<Docker>,
    audit: Arc<Audit>,
    body: Incoming,
    split: JsonSplitter,
    /// Written once the pull ends or is abandoned; `None` after that.
    record: Option<Record>,
    image: String,
    digest: Option<String>,
    up_to_date: bool,
}

impl Service {
    /// Begins pulling `request` for `caller` (see the module doc).
    pub async fn pull(&self, caller: &Caller, op: Op, request: PullRequest) -> Result<Pull, Error> {
        let r = &request.reference;
        let image = r.to_string();
        self.permit_image(caller, op, &image)?;
        let pin = match &r.pin {
            Some(Pin::Tag(t) | Pin::Digest(t)) => t.as_str(),
            None => "latest",
        };
        let header = request.auth.as_ref().map(RegistryAuth::encode);
        let headers: Vec<_> = header
            .iter()
            .map(|h| (registry_auth::HEADER, h.as_str()))
            .collect();
        let opened = self
            .docker
            // Both always: a name without a tag would pull every tag.
            .pull_image(&r.name, pin, &headers, START)
            .await
            .map_err(|e| Error::for_image(e, &image));
        let record = record(caller, op, None).image(&image);
        match opened {
            Ok(resp) => Ok(Pull {
                docker: self.docker.clone(),
                audit: self.audit.clone(),
                body: resp.into_body(),
                split: JsonSplitter::new(),
                record: Some(record),
                image,
                digest: None,
                up_to_date: false,
            }),
            Err(e) => {
                self.audit.record(record.refusal(&e));
                Err(e)
            }
        }
    }
}

impl Pull {
    /// The next step: Docker's progress messages in order, then the
    /// summary, then `None`.
    pub async fn next(&mut self) -> Option<Step> {
        self.record.as_ref()?;
        loop {
            match self.split.next_value() {
                Ok(Some(Json::Whole(bytes))) => return Some(self.message(&bytes).await),
                // No progress message is this large; it is not one.
                Ok(Some(Json::Oversized(_))) => continue,
                Ok(None) => {}
                Err(e) => return Some(self.finish(Err(e.to_string())).await),
            }
            let ended = match tokio::time::timeout(IDLE, self.body.frame()).await {
                Err(_) => Err(format!("Docker sent nothing for {} s", IDLE.as_secs())),
                Ok(None) => self.split.finish().map_err(|e| e.to_string()),
                Ok(Some(Err(e))) => Err(format!("the stream from Docker broke: {e}")),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.split.push(&data);
                    }
                    continue;
                }
            };
            return Some(self.finish(ended).await);
        }
    }

    /// One message: progress, or the error that ends the pull.
    async fn message(&mut self, bytes: &[u8]) -> Step {
        let m = match serde_json::from_slice::<PullMessage>(bytes) {
            Ok(m) => m,
            Err(_) => {
                return self
                    .finish(Err("unreadable progress from Docker".into()))
                    .await;
            }
        };
        if let Some(error) = m.error {
            return self.finish(Err(error)).await;
        }
        let status = m.status.unwrap_or_default();
        if let Some(digest) = status.strip_prefix("Digest: ") {
            self.digest = Some(digest.to_string());
        }
        self.up_to_date |= status.starts_with("Status: Image is up to date");
        let progress = m.detail.and_then(|d| {
            Some(PullBytes {
                current: d.current?,
                total: d.total,
            })
        });
        Step::Progress(PullProgress {
            status,
            id: m.id,
            progress,
        })
    }

    /// The summary of a pull that `ended` well or with a message; recorded.
    async fn finish(&mut self, ended: Result<(), String>) -> Step {
        let record = self
            .record
            .take()
            .unwrap_or_else(|| unreachable!("finished once"));
        let outcome = match ended {
            Ok(()) => Ok(self.local_id().await),
            Err(message) => Err(Error::DockerFailed(message)),
        };
        self.audit.record(record.outcome(&outcome));
        let (id, status, error) = match outcome {
            Ok(id) if self.up_to_date => (id, "up to date", None),
            Ok(id) => (id, "pulled", None),
            Err(e) => (None, "failed", Some(e.message())),
        };
        let summary = PullSummary {
            image: self.image.clone(),
            id,
            digest: self.digest.take(),
            status,
            error,
        };
        Step::Done { summary }
    }

    /// The id of the image just pulled, if Docker says.
    async fn local_id(&self) -> Option<String> {
        let inspect = self.docker.image(&self.image).await.ok()?;
        Some(inspect.id).filter(|id| !id.is_empty())
    }
}

/// A pull dropped before its end (its client gone) is recorded as failed.
impl Drop for Pull {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.result = Outcome::Failed;
            record.reason = Some("the client went away; the pull was cancelled".into());
            self.audit.record(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(v: Value) -> Result<PullRequest, Vec<(String, &'static str)>> {
        let body = v.as_object().unwrap();
        let mut input = Input::body(Vec::new(), body);
        let request = PullRequest::read(&mut input);
        let checked = input.finish().map(|()| request.unwrap());
        checked.map_err(|e| match e {
            Error::Validation(errors) => errors
                .into_iter()
                .map(|e| {
                    let loc: Vec<String> = e
                        .loc
                        .iter()
                        .map(|l| l.as_str().unwrap().to_string())
                        .collect();
                    (loc.join("."), e.kind)
                })
                .collect(),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn a_request_names_an_image_and_maybe_a_tag_and_credentials() {
        let r = read(json!({"image": "alpine"})).unwrap();
        assert_eq!(
            (r.reference.to_string(), r.auth),
            ("alpine:latest".into(), None)
        );
        let r = read(json!({"image": "127.0.0.1:5000/t/app", "tag": "v1", "auth": null})).unwrap();
        assert_eq!(r.reference.to_string(), "127.0.0.1:5000/t/app:v1");
        let r = read(json!({"image": "a", "auth": {"username": "u", "password": "p", "serveraddress": "r:1"}}))
            .unwrap();
        let auth = r.auth.unwrap();
        assert_eq!(
            (auth.username.as_deref(), auth.password.as_deref()),
            (Some("u"), Some("p"))
        );
        let r = read(json!({"image": "a", "auth": {"identitytoken": "t"}})).unwrap();
        assert_eq!(r.auth.unwrap().identitytoken.as_deref(), Some("t"));
    }

    #[test]
    fn every_bad_field_is_reported_where_it_is() {
        assert_eq!(
            read(json!({})).unwrap_err(),
            [("body.image".into(), "missing")]
        );
        assert_eq!(
            read(json!({"image": 5, "tag": [], "platform": "arm"})).unwrap_err(),
            [
                ("body.platform".into(), "extra_forbidden"),
                ("body.image".into(), "string_type"),
                ("body.tag".into(), "string_type")
            ]
        );
        assert_eq!(
            read(json!({"image": "Bad Name"})).unwrap_err(),
            [("body.image".into(), "value_error")]
        );
        assert_eq!(
            read(json!({"image": "alpine:3", "tag": "4"})).unwrap_err(),
            [("body.tag".into(), "value_error")]
        );
        assert_eq!(
            read(json!({"image": "a", "auth": "user:pw"})).unwrap_err(),
            [("body.auth".into(), "model_attributes_type")]
        );
        assert_eq!(
            read(json!({"image": "a", "auth": {"password": "p", "email": "e"}})).unwrap_err(),
            [
                ("body.auth.email".into(), "extra_forbidden"),
                ("body.auth.username".into(), "missing")
            ]
        );
        let long = "p".repeat(MAX_CREDENTIAL + 1);
        assert_eq!(
            read(json!({"image": "a", "auth": {"username": "u", "password": long}})).unwrap_err(),
            [("body.auth.password".into(), "string_too_long")]
        );
    }

    #[test]
    fn no_message_repeats_a_credential() {
        let secret = "hunter2-secret";
        for auth in [
            json!({"username": secret}),
            json!({"password": secret, "token": secret}),
            json!({"username": 1, "password": secret}),
        ] {
            let body = json!({"image": "A", "auth": auth});
            let mut input = Input::body(Vec::new(), body.as_object().unwrap());
            assert!(PullRequest::read(&mut input).is_none());
            let e = input.finish().unwrap_err();
            assert!(!e.body().to_string().contains(secret), "{}", e.body());
        }
    }
}
