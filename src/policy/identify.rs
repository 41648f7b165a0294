//! Who a credential is: a scoped token (`dat_…`), a login JWT, the MCP key
//! or the metrics token, each made the [`Caller`] its role and restrictions
//! say; and the tokens file, reloaded in place, which revokes the callers
//! of a removed token.

use super::{Caller, Credential, Policy, Restrictions, Role, Surface, TokenSet, tokens};
use crate::auth::Auth;
use crate::auth::secret::Secret;
use crate::error::Error;
use std::sync::{Arc, PoisonError};

impl Policy {
    /// The tokens in force as [`TokenSet::canonical`] bytes: what the
    /// agents of a fleet compare (through a keyed proof, never the bytes).
    pub fn tokens_canonical(&self) -> Vec<u8> {
        self.tokens().canonical()
    }

    pub(super) fn tokens(&self) -> Arc<TokenSet> {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The caller presenting `credential` (a bearer value or `?token=`): a
    /// scoped token (`dat_…`), else a login JWT; 401 otherwise.
    pub fn identify(
        &self,
        auth: &Auth,
        credential: &str,
        surface: Surface,
    ) -> Result<Caller, Error> {
        if tokens::looks_like(credential) {
            return self
                .token_caller(credential, surface)
                .ok_or(Error::Unauthorized("Invalid or expired token"));
        }
        let claims = auth.verify(credential)?;
        Ok(Caller {
            subject: claims.sub,
            role: self.login_role,
            surface,
            credential: Credential::Login {
                expires: claims.exp,
            },
            restrictions: Restrictions::default(),
            context: None,
        })
    }

    /// The MCP caller presenting `presented`: the MCP key, or a scoped token.
    pub fn mcp_caller(&self, key: &Secret, presented: &str) -> Option<Caller> {
        if key.matches(presented) {
            return Some(Caller {
                subject: "mcp".into(),
                role: self.mcp_role,
                surface: Surface::Mcp,
                credential: Credential::McpKey,
                restrictions: self.mcp_key,
                context: None,
            });
        }
        self.token_caller(presented, Surface::Mcp)
    }

    /// The scraper presenting `METRICS_TOKEN` (`key`), with the `read` role.
    pub fn metrics_caller(key: Option<&Secret>, presented: &str) -> Option<Caller> {
        key.filter(|k| k.matches(presented)).map(|_| Caller {
            subject: "metrics".into(),
            role: Role::Read,
            surface: Surface::Rest,
            credential: Credential::MetricsToken,
            restrictions: Restrictions::default(),
            context: None,
        })
    }

    /// The caller of scoped token `presented`, when the tokens in force hold it.
    pub(super) fn token_caller(&self, presented: &str, surface: Surface) -> Option<Caller> {
        if !tokens::looks_like(presented) {
            return None;
        }
        let hash = tokens::digest(presented);
        let set = self.tokens();
        let entry = set.holding(&hash)?;
        Some(Caller {
            subject: entry.name.clone(),
            role: entry.role,
            surface,
            credential: Credential::Token(hash),
            restrictions: entry.marks.restrictions(self.mcp_key),
            context: None,
        })
    }

    /// `caller` as the current tokens file has it: `None` once its token
    /// was removed (other credentials are unaffected by reloads).
    pub fn refresh(&self, caller: &Caller) -> Option<Caller> {
        let Credential::Token(hash) = &caller.credential else {
            return Some(caller.clone());
        };
        let set = self.tokens();
        let entry = set.holding(hash)?;
        Some(Caller {
            subject: entry.name.clone(),
            role: entry.role,
            restrictions: entry.marks.restrictions(self.mcp_key),
            ..caller.clone()
        })
    }

    /// Completes when `caller`'s token is removed by a reload (never for
    /// other credentials).
    pub async fn revoked(&self, caller: &Caller) {
        let mut changes = self.generation.subscribe();
        loop {
            if changes.changed().await.is_err() {
                return std::future::pending().await;
            }
            if self.refresh(caller).is_none() {
                return;
            }
        }
    }

    /// Reads the tokens file again; on error the tokens in force stay.
    /// Returns how many tokens are now in force.
    pub fn reload_tokens(&self) -> Result<usize, String> {
        let Some(path) = &self.tokens_file else {
            return Ok(self.tokens().len());
        };
        let set = TokenSet::load(path)?;
        let count = set.len();
        *self.tokens.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        self.generation.send_modify(|g| *g += 1);
        Ok(count)
    }

    /// Whether a tokens file is configured (and so reloaded on SIGHUP).
    pub fn has_tokens_file(&self) -> bool {
        self.tokens_file.is_some()
    }
}
