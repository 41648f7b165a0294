//! What every MCP method handler shares: the request's [`Ctx`] — who
//! asks (and with which credential, as presented), from where, in which
//! protocol [`Era`], and the way back to its client before the result — and the helpers that shape an answer:
//! [`unknown_method`], [`within`] (a result that fits its room), the
//! 2026-07-28 cache hints ([`cacheable`], [`cached`]), and
//! [`shown_container`], a container as MCP shows it.

use super::changes::Listener;
use super::exchange::{Link, Outbox, SessionClient};
use super::jsonrpc::{INTERNAL_ERROR, METHOD_NOT_FOUND, RpcError};
use crate::app::App;
use crate::auth::secret::Secret;
use crate::error::Error;
use crate::http::body::encoded_len;
use crate::ops;
use crate::policy::Caller;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;

/// How long list results may be cached: the tools, prompts and resource
/// templates change only with a new binary.
const TTL_MS: u64 = 3_600_000;

/// The stateless revision.
pub const MODERN: &str = "2026-07-28";

/// The protocol era a request is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Handshake(&'static str),
    Modern,
}

impl Era {
    /// JSON-RPC batches exist in 2024-11-05 and 2025-03-26 only.
    pub fn allows_batches(self) -> bool {
        matches!(self, Era::Handshake("2024-11-05" | "2025-03-26"))
    }

    /// `structuredContent` and `outputSchema` exist from 2025-06-18.
    pub fn has_structured_content(self) -> bool {
        !matches!(self, Era::Handshake("2024-11-05" | "2025-03-26"))
    }
}

/// Who is asking, from where, in which era, and the way back to it before
/// the result.
pub struct Ctx<'a> {
    pub app: &'a Arc<App>,
    pub era: Era,
    pub client: IpAddr,
    pub caller: &'a Caller,
    /// The credential as the caller presented it: what a call for another
    /// host of the fleet is sent on with, for its owner to judge.
    pub presented: Option<&'a Secret>,
    pub link: Link,
}

/// The caller, and its credential as presented.
pub type Who<'a> = (&'a Caller, Option<&'a Secret>);

impl<'a> Ctx<'a> {
    /// The handshake session's listener (resource subscriptions); `None`
    /// on 2026-07-28, which has no sessions.
    pub fn listener(&self) -> Option<&Arc<Listener>> {
        self.link.peer.as_ref().map(|p| &p.listener)
    }

    /// A 2026-07-28 request, reaching its client through `out` before the
    /// result (progress only: that revision asks nothing mid-request).
    pub fn stateless(
        app: &'a Arc<App>,
        client: IpAddr,
        (caller, presented): Who<'a>,
        out: Outbox,
    ) -> Ctx<'a> {
        Ctx {
            app,
            era: Era::Modern,
            client,
            caller,
            presented,
            link: Link { out, peer: None },
        }
    }

    /// A request in the handshake session whose client is `peer`,
    /// reaching it through `out` before the result.
    pub fn in_session(
        app: &'a Arc<App>,
        client: IpAddr,
        (caller, presented): Who<'a>,
        peer: Arc<SessionClient>,
        out: Outbox,
    ) -> Ctx<'a> {
        Ctx {
            app,
            era: Era::Handshake(peer.version),
            client,
            caller,
            presented,
            link: Link {
                out,
                peer: Some(peer),
            },
        }
    }
}

/// A method this server does not have (or not in this era, or not here).
pub(super) fn unknown_method(method: &str) -> RpcError {
    RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
}

/// `result`, or an internal error when it takes more than `room` bytes.
pub(super) fn within(result: Value, room: usize, what: &str) -> Result<Value, RpcError> {
    let size = encoded_len(&result);
    if size > room {
        return Err(RpcError::new(
            INTERNAL_ERROR,
            format!(
                "{what} is too large to send: {size} bytes, and this answer has room for {room}"
            ),
        ));
    }
    Ok(result)
}

/// Adds the modern era's cache hints (sent on 2026-07-28 only: the
/// dispatcher, [`super::protocol`], drops them on the handshake eras):
/// `public` for what every caller gets alike, `private` for
/// what depends on who asks (the tools a caller's role allows).
pub(super) fn cacheable(result: Value, scope: &str) -> Value {
    cached(result, TTL_MS, scope)
}

/// [`cacheable`] for `ttl_ms`, for what changes sooner than the binary.
pub(super) fn cached(mut result: Value, ttl_ms: u64, scope: &str) -> Value {
    result["ttlMs"] = json!(ttl_ms);
    result["cacheScope"] = json!(scope);
    result
}

/// A container's detail as MCP shows it, in a tool's result, a resource or
/// a prompt (environment values redacted for a credential kept from them).
pub(super) async fn shown_container(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<crate::contract::ContainerDetail, Error> {
    ctx.app
        .service
        .container(ctx.caller, ops::INSPECT.op, id)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_only_where_the_era_allows() {
        assert!(Era::Handshake("2024-11-05").allows_batches());
        assert!(Era::Handshake("2025-03-26").allows_batches());
        assert!(!Era::Handshake("2025-06-18").allows_batches());
        assert!(!Era::Modern.allows_batches());
    }

    #[test]
    fn structured_content_from_2025_06_18() {
        assert!(!Era::Handshake("2024-11-05").has_structured_content());
        assert!(!Era::Handshake("2025-03-26").has_structured_content());
        assert!(Era::Handshake("2025-06-18").has_structured_content());
        assert!(Era::Handshake("2025-11-25").has_structured_content());
        assert!(Era::Modern.has_structured_content());
    }
}
