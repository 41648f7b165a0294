//! A person's yes to a tool call, asked here for a credential that needs
//! one ([`crate::policy::Confirm`]: `MCP_CONFIRM` for the MCP key, a
//! token's marks): `destructive` (the MCP key's default) removals and exec,
//! `actions` those and every operation that changes something. The policy
//! refuses such a call without the yes on every surface; MCP is where it
//! can be asked, and the call then runs with its request marked confirmed.
//!
//! How, once the container is resolved through the service (an
//! out-of-scope or missing one is "not found" before anything is asked):
//! - **2026-07-28**: the call is answered with an `InputRequiredResult`
//!   holding one `elicitation/create` ([`QUESTION`]) that names the tool,
//!   the container (name and short id) and the arguments, and a
//!   `requestState` ([`sign`]): an HMAC-SHA256, under a key derived from
//!   `SECRET_KEY`, of the tool, its exact arguments (canonical JSON), the
//!   caller, the container's full id, this host's Docker daemon id, an
//!   expiry ([`WAIT`]) and a random nonce. The retry runs only with that
//!   state intact, unexpired, unused ([`Spent`], per replica) and an
//!   `accept` whose `confirm` is true. Every agent of a fleet shares the
//!   key, so the daemon id is what keeps a yes for one host from being
//!   used on another: a call sent on by a front door ([`super::fleet`]) is
//!   asked and checked here, by its owner, and the question names the host
//!   as the front door knows it ([`HOST_META`]).
//! - **Handshake eras**: `elicitation/create` is sent on the request's SSE
//!   answer (or the legacy session's stream) to a client that declared the
//!   capability, and its answer awaited for at most [`WAIT`].
//!
//! A client that cannot ask gets `isError: true` saying why and how an
//! operator changes `MCP_CONFIRM`; no argument can stand in for the answer.
//! Every answer is in the audit trail: an accepted one on the action's
//! record, any other on a record of its own.

use super::context::{Ctx, Era};
use super::exchange::{Link, Unanswered, client_name};
use super::tool_error::{explain, failure};
use crate::audit::{Action, Confirmation, Outcome, Record, Surface};
use crate::auth::secret::same_digest;
use crate::error::clip;
use crate::policy::{Caller, Credential, Op};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::Duration;

/// How long a question waits for its answer, and a `requestState` lasts.
pub const WAIT: Duration = Duration::from_secs(300);
/// Used confirmations remembered at once (until they expire); beyond that
/// a new one is refused rather than forgotten.
pub const MAX_SPENT: usize = 10_000;
/// The key the input request is filed under.
const KEY: &str = "confirm";

/// What a confirmation is bound to.
#[derive(Clone, Copy)]
pub struct Binding<'a> {
    pub tool: &'a str,
    pub args: &'a Map<String, Value>,
    /// The caller, as the audit trail names it.
    pub subject: &'a str,
    /// The container's full id (empty for a tool that names none).
    pub target: &'a str,
    /// The id of the Docker daemon the call runs on: every agent of a
    /// fleet shares the key, so this is what keeps a yes given for one
    /// host from being used on another.
    pub host: &'a str,
}

impl Binding<'_> {
    fn digest(&self) -> [u8; 32] {
        let args = serde_json::to_string(self.args).unwrap_or_default();
        let mut h = Sha256::new();
        for part in [self.tool, &args, self.subject, self.target, self.host] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.finalize().into()
    }
}

/// Bytes of a state: binding digest, expiry, nonce, then their MAC.
const PAYLOAD: usize = 32 + 8 + 16;

fn mac(key: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(payload);
    m.finalize().into_bytes().into()
}

/// The signing key: `SECRET_KEY` under a label of its own, so replicas
/// that share the secret agree and no other signature can pass for one.
pub fn key(secret: &str) -> [u8; 32] {
    mac(
        secret.as_bytes(),
        b"docker-agent mcp confirmation requestState v1",
    )
}

/// A `requestState` for `b`, valid until `expires` (Unix seconds).
pub fn sign(key: &[u8; 32], b: &Binding, expires: u64, nonce: [u8; 16]) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD + 32);
    bytes.extend_from_slice(&b.digest());
    bytes.extend_from_slice(&expires.to_be_bytes());
    bytes.extend_from_slice(&nonce);
    let tag = mac(key, &bytes);
    bytes.extend_from_slice(&tag);
    B64.encode(bytes)
}

/// A state that is not for this call, or no longer valid.
pub type Invalid = &'static str;

/// Checks `state` for `b` at `now`: its nonce and expiry, or why not.
pub fn verify(
    key: &[u8; 32],
    b: &Binding,
    state: &str,
    now: u64,
) -> Result<([u8; 16], u64), Invalid> {
    let forged = "is not one this agent signed";
    let bytes = B64.decode(state).map_err(|_| forged)?;
    let (payload, tag) = bytes.split_at_checked(PAYLOAD).ok_or(forged)?;
    let tag: &[u8; 32] = tag.try_into().map_err(|_| forged)?;
    if !same_digest(&mac(key, payload), tag) {
        return Err(forged);
    }
    if payload[..32] != b.digest() {
        return Err("was given for another call (tool, arguments, caller, container or host)");
    }
    let expires = u64::from_be_bytes(payload[32..40].try_into().map_err(|_| forged)?);
    if now >= expires {
        return Err("has expired");
    }
    let nonce = payload[40..].try_into().map_err(|_| forged)?;
    Ok((nonce, expires))
}

/// Confirmations already used, until they expire (single use per
/// replica): a list, scanned at the pace people answer questions.
#[derive(Default)]
pub struct Spent(Mutex<Vec<([u8; 16], u64)>>);

impl Spent {
    /// Marks `nonce` (valid until `expires`) used; refused if it was.
    pub fn spend(&self, nonce: [u8; 16], expires: u64, now: u64) -> Result<(), Invalid> {
        let mut used = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if used.iter().any(|(n, _)| *n == nonce) {
            return Err("was already used");
        }
        if used.len() >= MAX_SPENT {
            used.retain(|(_, e)| *e > now);
        }
        if used.len() >= MAX_SPENT {
            return Err(
                "cannot be checked now: too many confirmations in the last minutes; ask again later",
            );
        }
        used.push((nonce, expires));
        Ok(())
    }
}

/// The question, as `elicitation/create` params (form mode: one checkbox).
const QUESTION: &str = r#"{"mode":"form","requestedSchema":{"type":"object","properties":{"confirm":{"type":"boolean","title":"Yes, do it","description":"Tick to let the agent go ahead; nothing happens otherwise.","default":false}},"required":["confirm"]}}"#;

fn question(message: &str) -> Value {
    let mut q: Value = serde_json::from_str(QUESTION).unwrap_or_default();
    q["message"] = json!(message);
    q
}

/// What will happen, said plainly: the tool's title, the container by name
/// and short id, where (`this host`, `host edge-2`), and the exact call.
fn describe(
    title: &str,
    tool: &str,
    args: &Map<String, Value>,
    target: Option<&(String, String)>,
    place: &str,
) -> String {
    let call = clip(&serde_json::to_string(args).unwrap_or_default(), 512);
    match target {
        Some((id, name)) => format!(
            "{title} \"{name}\" ({}) on {place}? An MCP client asks to run {tool} {call}.",
            &id[..id.len().min(12)]
        ),
        None => format!("{title} on {place}? An MCP client asks to run {tool} {call}."),
    }
}

/// The `_meta` key under which a front door of the fleet names, in a call
/// it sends on, the host the call is for (as the person knows it there);
/// believed only from a peer of the fleet, and only for the question's words.
pub const HOST_META: &str = "docker-agent/host";

/// Where a call of `ctx` with `params` runs, as its question names it: the
/// name the front door that sent it on knows this host by; else, in a
/// fleet, this host's own name; else `this host`.
fn place(ctx: &Ctx<'_>, params: &Value) -> String {
    let through_fleet = ctx.caller.context.as_ref().and_then(|c| c.through());
    let named = params
        .get("_meta")
        .and_then(|m| m.get(HOST_META))
        .and_then(Value::as_str)
        .filter(|_| through_fleet.is_some());
    let own = ctx.app.fleet.enabled().then(|| ctx.app.fleet.hosts());
    let own = own
        .as_ref()
        .and_then(|h| h.first())
        .map(|h| h.name.as_str());
    match named.or(own).filter(|n| !n.is_empty()) {
        Some(name) => format!("host {}", clip(name, crate::audit::MAX_TEXT)),
        None => "this host".into(),
    }
}

/// A tool call waiting for its confirmation.
pub struct Ask<'a> {
    pub ctx: &'a Ctx<'a>,
    pub tool: &'a str,
    pub title: &'a str,
    pub op: Op,
    pub args: &'a Map<String, Value>,
    pub params: &'a Value,
}

/// The answer to send instead of running the tool.
pub type AnswerInstead = Value;

impl Ask<'_> {
    /// The caller to run the tool as, its request marked confirmed, or the
    /// answer to send instead (a question, a refusal, a tool error).
    pub async fn confirm(&self) -> Result<Caller, AnswerInstead> {
        let target = match self.args.get("container_id").and_then(Value::as_str) {
            Some(reference) => {
                let service = &self.ctx.app.service;
                let found = service.target(self.ctx.caller, self.op, reference).await;
                Some(found.map_err(|e| failure(&explain(&e)))?)
            }
            None => None,
        };
        let place = place(self.ctx, self.params);
        let message = describe(self.title, self.tool, self.args, target.as_ref(), &place);
        let (answer, by) = match self.ctx.era {
            Era::Modern => self.modern(&message, target.as_ref()).await?,
            Era::Handshake(_) => ask_in_session(&self.ctx.link, question(&message)).await,
        };
        // Any other answer is why a `requestState` did not hold.
        let recorded = match answer {
            "accepted" | "declined" | "cancelled" | "timed_out" | "unavailable" | "busy"
            | "gone" => answer,
            _ => "invalid",
        };
        let confirmation = Confirmation {
            answer: recorded,
            by,
        };
        if answer == "accepted" {
            let context = self
                .ctx
                .caller
                .context
                .clone()
                .map(|c| c.confirmed(confirmation));
            return Ok(Caller {
                context,
                ..self.ctx.caller.clone()
            });
        }
        let why = self.refusal(answer, &message);
        self.record(&confirmation, target.as_ref(), &why);
        Err(failure(&why))
    }

    /// The tool error for an answer other than yes.
    fn refusal(&self, answer: &str, message: &str) -> String {
        let mode = self.ctx.caller.restrictions.confirm.name();
        let why = match answer {
            "unavailable" => {
                let (setting, change) = match self.ctx.caller.credential {
                    Credential::Token(_) => (
                        format!("Its marks in API_TOKENS_FILE (confirm={mode})"),
                        "its marks",
                    ),
                    _ => (
                        format!("MCP_CONFIRM={mode}"),
                        "MCP_CONFIRM (destructive, actions or off)",
                    ),
                };
                format!(
                    "{setting} requires a person to confirm {}, and this client cannot ask one \
                     (it declared no elicitation capability, or does not accept text/event-stream answers). \
                     Use a client that supports elicitation, or ask the agent's operator to change {change}",
                    self.tool
                )
            }
            other => why_not(other),
        };
        not_done(&why, message)
    }

    /// A record of a confirmation that was not given.
    fn record(&self, c: &Confirmation, target: Option<&(String, String)>, why: &str) {
        let caller = self.ctx.caller;
        let mut r = Record::new(
            caller.context.as_ref(),
            Surface::Mcp,
            Action::Op(self.op.action),
            caller.subject(),
        );
        if let Some((id, name)) = target {
            r = r.container(id, Some(name));
        }
        r.result = Outcome::Refused;
        r.reason = Some(clip(why, crate::audit::MAX_TEXT));
        r.confirmation = Some(c.clone());
        self.ctx.app.audit.record(r);
    }

    /// 2026-07-28: the answer the retry carries, or the question to send.
    async fn modern(
        &self,
        message: &str,
        target: Option<&(String, String)>,
    ) -> Result<(&'static str, String), AnswerInstead> {
        let meta = self.params.get("_meta");
        let name = meta.and_then(|m| m.get("io.modelcontextprotocol/clientInfo"));
        let by = asked_by(&client_name(name.and_then(|i| i.get("name"))));
        let elicits = meta
            .and_then(|m| m.get("io.modelcontextprotocol/clientCapabilities"))
            .is_some_and(|c| c.get("elicitation").is_some());
        if !elicits {
            return Ok(("unavailable", by));
        }
        let subject = self.ctx.caller.subject().to_string();
        let host = self.ctx.app.service.daemon_id().await;
        let host = host.map_err(|e| failure(&explain(&e)))?;
        let binding = Binding {
            tool: self.tool,
            args: self.args,
            subject: &subject,
            target: target.map_or("", |t| t.0.as_str()),
            host: &host,
        };
        let key = key(self.ctx.app.config.auth.secret_key.expose());
        let now = crate::clock::unix_now();
        let response = self.params.pointer(&format!("/inputResponses/{KEY}"));
        let state = self.params.get("requestState").and_then(Value::as_str);
        let (Some(state), Some(response)) = (state, response) else {
            let mut nonce = [0u8; 16];
            crate::random::fill(&mut nonce);
            let state = sign(&key, &binding, now + WAIT.as_secs(), nonce);
            return Err(json!({
                "resultType": "input_required",
                "inputRequests": {KEY: {"method": "elicitation/create", "params": question(message)}},
                "requestState": state,
            }));
        };
        let checked = verify(&key, &binding, state, now).and_then(|(nonce, expires)| {
            super::state(self.ctx.app).spent.spend(nonce, expires, now)
        });
        Ok((
            checked.map_or_else(|invalid| invalid, |()| answer_of(Some(response))),
            by,
        ))
    }
}

/// Handshake eras: asks `question` (`elicitation/create` params) over the
/// request's stream of `link` and waits: the answer, and how it was asked.
pub async fn ask_in_session(link: &Link, question: Value) -> (&'static str, String) {
    let Some(peer) = link.peer.as_ref().filter(|p| p.elicits && link.out.open()) else {
        let client = link.peer.as_ref().map_or("unknown client", |p| &p.client);
        return ("unavailable", asked_by(client));
    };
    let by = asked_by(&peer.client);
    let asked = peer
        .questions
        .ask(&link.out, "elicitation/create", question, WAIT)
        .await;
    let answer = match asked {
        Ok(result) => answer_of(result.as_ref()),
        Err(Unanswered::CannotAsk) => "unavailable",
        Err(Unanswered::Busy) => "busy",
        Err(Unanswered::Gone) => "gone",
        Err(Unanswered::TimedOut) => "timed_out",
    };
    (answer, by)
}

/// Why a call was not done, for an answer other than yes or `unavailable`
/// (whose reason names the setting that asks).
pub fn why_not(answer: &str) -> String {
    match answer {
        "declined" => "the user declined".to_string(),
        "cancelled" => "the user dismissed the question".to_string(),
        "timed_out" => format!("no answer within {} seconds", WAIT.as_secs()),
        "busy" => "too many questions are waiting for this client; answer them first".to_string(),
        "gone" => "the client went away before answering".to_string(),
        invalid => format!("the confirmation {invalid}; call the tool again to be asked anew"),
    }
}

/// The tool error's text for a call not done because of `why`, asked as `message`.
pub fn not_done(why: &str, message: &str) -> String {
    format!("Not done: {why}. Nothing was changed. The question was: {message}")
}

/// How a person is asked through `client`, as the audit trail names it.
fn asked_by(client: &str) -> String {
    format!("elicitation:{client}")
}

/// An elicitation result as an answer: only `accept` with `confirm: true` is yes.
fn answer_of(result: Option<&Value>) -> &'static str {
    let Some(r) = result else { return "declined" };
    match r.get("action").and_then(Value::as_str) {
        Some("accept") if r.pointer("/content/confirm") == Some(&json!(true)) => "accepted",
        Some("cancel") => "cancelled",
        _ => "declined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const KEY_A: [u8; 32] = [7; 32];

    /// `tool` on the container `4f1c…` of daemon `4QOX…` with `args`, by the MCP key.
    fn binding<'a>(tool: &'a str, args: &'a Map<String, Value>) -> Binding<'a> {
        Binding {
            tool,
            args,
            subject: "mcp",
            target: "4f1c",
            host: "4QOX:BECA:LM2T",
        }
    }

    #[test]
    fn a_state_holds_only_for_its_call_until_it_expires() {
        let a = args(json!({"container_id": "web", "timeout": 5}));
        let b = binding("restart_container", &a);
        let state = sign(&KEY_A, &b, 1_000, [1; 16]);
        assert_eq!(verify(&KEY_A, &b, &state, 999), Ok(([1; 16], 1_000)));
        assert_eq!(verify(&KEY_A, &b, &state, 1_000), Err("has expired"));
        let reordered = args(json!({"timeout": 5, "container_id": "web"}));
        let same = Binding {
            args: &reordered,
            ..b
        };
        assert!(verify(&KEY_A, &same, &state, 999).is_ok(), "canonical JSON");
        let other_args = args(json!({"container_id": "web", "timeout": 6}));
        let others = [
            Binding {
                tool: "stop_container",
                ..b
            },
            Binding {
                args: &other_args,
                ..b
            },
            Binding {
                subject: "token:ci",
                ..b
            },
            Binding {
                target: "9e2d",
                ..b
            },
            Binding {
                host: "77AB:CD12:EF34",
                ..b
            },
        ];
        for other in others {
            assert!(
                verify(&KEY_A, &other, &state, 999)
                    .unwrap_err()
                    .contains("another call")
            );
        }
    }

    #[test]
    fn a_yes_for_one_host_of_the_fleet_holds_on_no_other() {
        // Every agent of a fleet signs with the same key; a call that names
        // no container (a create) has the same tool, arguments and caller
        // everywhere, so the daemon's id alone tells the hosts apart.
        let a = args(json!({"name": "web", "image": "nginx:1.27"}));
        let on = |host| Binding {
            tool: "create_container",
            args: &a,
            subject: "mcp",
            target: "",
            host,
        };
        let key = key("the fleet's SECRET_KEY");
        let state = sign(&key, &on("DAEMON-OF-TWO"), 1_000, [3; 16]);
        assert_eq!(
            verify(&key, &on("DAEMON-OF-TWO"), &state, 999),
            Ok(([3; 16], 1_000))
        );
        assert_eq!(
            verify(&key, &on("DAEMON-OF-THREE"), &state, 999),
            Err("was given for another call (tool, arguments, caller, container or host)")
        );
        assert!(verify(&key, &on(""), &state, 999).is_err());
        // The parts are length-prefixed: moving bytes from one to the next
        // makes another binding.
        let shifted = Binding {
            target: "D",
            host: "AEMON-OF-TWO",
            ..on("")
        };
        assert!(verify(&key, &shifted, &state, 999).is_err());
    }

    #[test]
    fn a_forged_or_altered_state_is_refused() {
        let a = args(json!({"container_id": "web"}));
        let b = binding("stop_container", &a);
        let state = sign(&KEY_A, &b, 1_000, [1; 16]);
        assert_eq!(
            verify(&[8; 32], &b, &state, 0),
            Err("is not one this agent signed")
        );
        let mut bytes = B64.decode(&state).unwrap();
        for i in [0, 35, 45, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert!(
                verify(&KEY_A, &b, &B64.encode(&bytes), 0).is_err(),
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        for junk in ["", "!!", &state[..state.len() - 2], &format!("{state}AA")] {
            assert_eq!(
                verify(&KEY_A, &b, junk, 0),
                Err("is not one this agent signed")
            );
        }
        assert_ne!(key("one secret"), key("another secret"));
    }

    #[test]
    fn a_state_is_used_once_and_the_memory_of_it_is_bounded() {
        let spent = Spent::default();
        assert_eq!(spent.spend([1; 16], 100, 0), Ok(()));
        assert_eq!(spent.spend([1; 16], 100, 0), Err("was already used"));
        for n in 0..MAX_SPENT as u32 - 1 {
            let mut nonce = [0; 16];
            nonce[..4].copy_from_slice(&n.to_be_bytes());
            nonce[15] = 9;
            spent.spend(nonce, 50, 0).unwrap();
        }
        assert!(
            spent.spend([2; 16], 100, 10).is_err(),
            "full: refused, not forgotten"
        );
        assert_eq!(
            spent.spend([2; 16], 100, 60),
            Ok(()),
            "expired ones make room"
        );
        assert_eq!(spent.spend([1; 16], 100, 60), Err("was already used"));
    }

    #[test]
    fn only_an_explicit_yes_is_accepted() {
        let yes = json!({"action": "accept", "content": {"confirm": true}});
        assert_eq!(answer_of(Some(&yes)), "accepted");
        for no in [
            json!({"action": "accept", "content": {"confirm": false}}),
            json!({"action": "accept"}),
            json!({"action": "accept", "content": {"confirm": "true"}}),
            json!({"action": "decline"}),
            json!({}),
        ] {
            assert_eq!(answer_of(Some(&no)), "declined", "{no}");
        }
        assert_eq!(answer_of(Some(&json!({"action": "cancel"}))), "cancelled");
        assert_eq!(answer_of(None), "declined", "an error answer");
    }

    #[test]
    fn the_question_names_the_container_and_the_call() {
        let a = args(json!({"container_id": "web"}));
        let target = ("4f1c0ffee1234567".to_string(), "web".to_string());
        let m = describe(
            "Stop container",
            "stop_container",
            &a,
            Some(&target),
            "this host",
        );
        assert_eq!(
            m,
            r#"Stop container "web" (4f1c0ffee123) on this host? An MCP client asks to run stop_container {"container_id":"web"}."#
        );
        let b = args(json!({"image": "nginx"}));
        assert_eq!(
            describe("Create container", "create_container", &b, None, "host two"),
            r#"Create container on host two? An MCP client asks to run create_container {"image":"nginx"}."#
        );
        let q = question(&m);
        assert_eq!(q["message"], m);
        assert_eq!(
            q["requestedSchema"]["properties"]["confirm"]["type"],
            "boolean"
        );
    }
}
