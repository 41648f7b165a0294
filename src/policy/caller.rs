//! Who is calling: the subject (login user, token name or `mcp`), its role,
//! the surface it came through, and the credential it proved itself with —
//! which says how long it lasts (a JWT's `exp`) or how it can be revoked (a
//! scoped token's hash, looked up again when the tokens file is reloaded).

use super::Role;
use crate::audit::{Context, Subject};

/// The surface a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Rest,
    Ws,
    Mcp,
}

impl Surface {
    pub fn name(self) -> &'static str {
        match self {
            Surface::Rest => "rest",
            Surface::Ws => "ws",
            Surface::Mcp => "mcp",
        }
    }
}

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A JWT from the login, valid until `expires` (Unix seconds).
    Login { expires: i64 },
    /// A scoped token, by its SHA-256 (what the tokens file holds).
    Token([u8; 32]),
    /// `MCP_API_KEY`.
    McpKey,
    /// `METRICS_TOKEN`, which opens `/metrics` only.
    MetricsToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub surface: Surface,
    pub credential: Credential,
    /// The request it made, for the audit trail.
    pub context: Option<Context>,
}

impl Caller {
    /// The caller, making the request `context` describes.
    pub fn at(mut self, context: Option<&Context>) -> Caller {
        self.context = context.cloned();
        self
    }

    /// Who it is, as the audit trail names it.
    pub fn subject(&self) -> Subject {
        match self.credential {
            Credential::Login { .. } => Subject::User(self.subject.clone()),
            Credential::Token(_) => Subject::Token(self.subject.clone()),
            Credential::McpKey => Subject::Mcp,
            Credential::MetricsToken => Subject::Metrics,
        }
    }

    /// When the credential stops being valid (Unix seconds), if it expires.
    pub fn expires(&self) -> Option<i64> {
        match self.credential {
            Credential::Login { expires } => Some(expires),
            Credential::Token(_) | Credential::McpKey | Credential::MetricsToken => None,
        }
    }
}
