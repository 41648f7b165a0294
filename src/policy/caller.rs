//! Who is calling: the subject (login user, token name or `mcp`), its role,
//! the surface it came through, the credential it proved itself with —
//! which says how long it lasts (a JWT's `exp`) or how it can be revoked (a
//! scoped token's hash, looked up again when the tokens file is reloaded) —
//! and the [`Restrictions`] that credential carries wherever it is used.

use super::{Op, Role};
pub use crate::audit::Surface;
use crate::audit::{Context, Subject};

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

/// Which operations wait for a person's yes (`MCP_CONFIRM`, or a token's
/// `confirm=` mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Confirm {
    /// None.
    #[default]
    Off,
    /// Removing containers and images, and running commands in containers.
    Destructive,
    /// Those, and every operation that changes something.
    Actions,
}

impl Confirm {
    pub fn parse(s: &str) -> Option<Confirm> {
        match s {
            "destructive" => Some(Confirm::Destructive),
            "actions" => Some(Confirm::Actions),
            "off" => Some(Confirm::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Confirm::Destructive => "destructive",
            Confirm::Actions => "actions",
            Confirm::Off => "off",
        }
    }

    /// Whether `op` waits for a person's yes.
    pub fn covers(self, op: Op) -> bool {
        match self {
            Confirm::Off => false,
            Confirm::Destructive => op.destructive,
            Confirm::Actions => op.destructive || op.mutates,
        }
    }
}

/// What a credential is kept from, on every surface it reaches: changes
/// (`read_only`), acting without a person's yes (`confirm`), and seeing
/// environment values (`redact_env`). The MCP key carries `MCP_READ_ONLY`,
/// `MCP_CONFIRM` and `MCP_REDACT_ENV`; a scoped token the marks of its line
/// in the tokens file; the login none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Restrictions {
    pub read_only: bool,
    pub confirm: Confirm,
    pub redact_env: bool,
}

impl Restrictions {
    /// Both sets at once: whatever either keeps the credential from.
    pub fn and(self, other: Restrictions) -> Restrictions {
        Restrictions {
            read_only: self.read_only || other.read_only,
            confirm: self.confirm.max(other.confirm),
            redact_env: self.redact_env || other.redact_env,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub surface: Surface,
    pub credential: Credential,
    /// What its credential is kept from, wherever it is used.
    pub restrictions: Restrictions,
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

    /// Whether a person said yes to this request (see [`Confirm`]).
    pub fn confirmed(&self) -> bool {
        self.context.as_ref().is_some_and(Context::is_confirmed)
    }

    /// When the credential stops being valid (Unix seconds), if it expires.
    pub fn expires(&self) -> Option<i64> {
        match self.credential {
            Credential::Login { expires } => Some(expires),
            Credential::Token(_) | Credential::McpKey | Credential::MetricsToken => None,
        }
    }
}
