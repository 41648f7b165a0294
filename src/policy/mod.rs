//! The access policy: who may do what to which container. Every decision —
//! role, read-only mode, container scope, the agent's own container — is
//! made by [`Policy::decide`], which the service layer asks before each
//! Docker operation, whatever the surface (REST, WebSocket, MCP). A new
//! operation gets the policy by naming its [`Op`].
//!
//! - [`caller`]: who is asking, through which surface, with which credential;
//! - [`identify`]: which caller a credential is, and the tokens in force;
//! - [`tokens`]: the scoped API tokens file (`API_TOKENS_FILE`);
//! - [`scope`]: `SCOPE_LABEL`, `SCOPE_NAMES`, `EXCLUDE_LABEL`, globs;
//! - [`own`]: finding the container the agent runs in;
//! - [`reload`]: reloading the tokens file on SIGHUP;
//! - [`host`]: what a created container may take from the host
//!   (`ALLOW_HOST_ACCESS`, `ALLOW_BIND_MOUNTS_FROM`);
//! - [`images`]: the images that may be created or pulled (`IMAGE_ALLOW`).
//!
//! What a credential is kept from — changes, acting without a person's
//! yes, environment values ([`Restrictions`]) — belongs to the credential
//! and holds on every surface it reaches: the MCP key carries
//! `MCP_READ_ONLY`, `MCP_CONFIRM` and `MCP_REDACT_ENV`, a scoped token the
//! marks of its line (`mcp` takes the MCP key's), the login none. A
//! confirmation only MCP can ask; elsewhere an operation that needs one
//! is refused.
//!
//! Roles: `read` may list, inspect, read logs and stats, follow streams and
//! events, list volumes and networks, read health and scrape metrics; `operate` may also
//! start, stop, restart, pause, unpause and kill; `admin` may do
//! everything, including pulling images, creating and removing containers
//! and images, and operations added later. Running commands in containers
//! (`exec`) needs `admin`, and `EXEC_ENABLED=true`. An
//! out-of-scope container is refused exactly as a missing one is (404, or
//! the surface's "not found"), so nothing tells the two apart.

pub mod caller;
pub mod host;
mod identify;
pub mod images;
pub mod op;
pub mod own;
pub mod reload;
pub mod scope;
pub mod tokens;

pub use caller::{Caller, Confirm, Credential, Restrictions, Surface};
pub use host::{HostAccess, HostRequest, Seen, View};
pub use op::Op;
pub use scope::{Labels, Scope, Sight};
pub use tokens::TokenSet;

use crate::contract::{RolesReport, ScopeReport};
use crate::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Read,
    Operate,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "operate" => Some(Role::Operate),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Operate => "operate",
            Role::Admin => "admin",
        }
    }
}

/// The operations of the catalogue, until each is defined in its own file.
impl Op {
    pub const LIST_CONTAINERS: Op = Op::read("list_containers", "list_containers");
    pub const INSPECT: Op = Op::read("inspect", "inspect");
    pub const LOGS: Op = Op::read("logs", "logs");
    pub const STATS: Op = Op::read("stats", "stats");
    pub const LIST_IMAGES: Op = Op::read("list_images", "list_images");
    pub const VERSION: Op = Op::read("version", "version");
    pub const HEALTH: Op = Op::read("health", "health");
    pub const FOLLOW_LOGS: Op = Op::read("follow_logs", "follow_logs");
    pub const FOLLOW_STATS: Op = Op::read("follow_stats", "follow_stats");
    pub const EVENTS: Op = Op::read("events", "events");
    pub const START: Op = Op::operate("start", "container.start").starting();
    pub const STOP: Op = Op::operate("stop", "container.stop").interrupting();
    pub const RESTART: Op = Op::operate("restart", "container.restart")
        .interrupting()
        .starting();
    pub const PULL: Op = Op::admin("pull", "image.pull");
    pub const PAUSE: Op = Op::operate("pause", "container.pause").interrupting();
    pub const UNPAUSE: Op = Op::operate("unpause", "container.unpause").starting();
    pub const KILL: Op = Op::operate("kill", "container.kill").interrupting();
    pub const LIST_VOLUMES: Op = Op::read("list_volumes", "list_volumes");
    pub const LIST_NETWORKS: Op = Op::read("list_networks", "list_networks");
    pub const CREATE: Op = Op::admin("create", "container.create");
    pub const REMOVE: Op = Op::admin("remove", "container.remove")
        .interrupting()
        .destructive();
    pub const REMOVE_IMAGE: Op = Op::admin("remove_image", "image.remove").destructive();
    pub const EXEC: Op = Op::operate("exec", "container.exec").running_commands();
    pub const METRICS: Op = Op::read("metrics", "metrics");
}

/// A container as the policy sees it.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    /// The full id.
    pub id: &'a str,
    /// The name, without the leading `/`.
    pub name: &'a str,
    pub labels: &'a dyn Labels,
}

/// Why an operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OutOfScope,
    ReadOnly,
    /// The credential is read-only (`MCP_READ_ONLY` for the MCP key, or a
    /// token's marks).
    CredentialReadOnly,
    /// The credential needs a person's yes for this, and none was given.
    Unconfirmed,
    Role {
        has: Role,
        needs: Role,
    },
    OwnContainer,
    /// Exec while `EXEC_ENABLED` is off.
    ExecDisabled,
}

/// One decision: who, what, on which container, and the refusal if any.
pub struct Decision<'a> {
    pub caller: &'a Caller,
    pub op: Op,
    pub container: Option<Facts<'a>>,
    pub refusal: Option<Refusal>,
    /// A scoped token's marks, as its line spells them, when a restriction
    /// of its own refused it.
    marks: Option<String>,
}

impl Decision<'_> {
    pub fn allowed(&self) -> bool {
        self.refusal.is_none()
    }

    /// Whether it is allowed once a person says yes (what a confirmation
    /// is asked about, and what MCP lists as callable).
    pub fn allowed_if_confirmed(&self) -> bool {
        matches!(self.refusal, None | Some(Refusal::Unconfirmed))
    }

    /// A token refused by its own restrictions, named with where they come
    /// from; `None` for the MCP key.
    fn restricted_by(&self) -> Option<String> {
        let marks = self.marks.as_deref()?;
        Some(format!(
            "The token '{}' (marked {marks} in API_TOKENS_FILE)",
            crate::error::clip(&self.caller.subject, 64)
        ))
    }

    /// The refusal as every surface reports it; `reference` is the
    /// container as the caller named it (an out-of-scope one is "not found").
    pub fn check(&self, reference: &str) -> Result<(), Error> {
        let op = self.op.name;
        match self.refusal {
            None => Ok(()),
            Some(Refusal::OutOfScope) => Err(Error::ContainerNotFound(reference.to_string())),
            Some(Refusal::ReadOnly) => Err(Error::Denied(format!(
                "The agent is read-only (READ_ONLY=true): '{op}' is refused"
            ))),
            Some(Refusal::CredentialReadOnly) => Err(Error::Denied(match self.restricted_by() {
                None => format!("MCP is read-only (MCP_READ_ONLY=true): '{op}' is refused"),
                Some(token) => format!("{token} is read-only: '{op}' is refused"),
            })),
            Some(Refusal::Unconfirmed) => Err(Error::Denied(format!(
                "{} needs a person's yes to '{op}', which only MCP can ask: call the tool from an \
                 MCP client that supports elicitation",
                self.restricted_by()
                    .unwrap_or_else(|| "The MCP key (MCP_CONFIRM)".into())
            ))),
            Some(Refusal::Role { has, needs }) => Err(Error::Denied(format!(
                "Role '{}' does not allow '{op}': it needs the '{}' role",
                has.name(),
                needs.name()
            ))),
            Some(Refusal::OwnContainer) => Err(Error::OwnContainer(reference.to_string())),
            Some(Refusal::ExecDisabled) => Err(Error::Denied(
                "exec is disabled; an operator can set EXEC_ENABLED=true".into(),
            )),
        }
    }
}

pub struct Policy {
    read_only: bool,
    /// What the MCP key (and tokens marked `mcp`) are kept from.
    mcp_key: Restrictions,
    exec_enabled: bool,
    login_role: Role,
    mcp_role: Role,
    scope: Scope,
    /// The container the agent runs in (full or short id).
    own: Option<String>,
    /// `IMAGE_ALLOW`: globs of the images that may be pulled (empty: any).
    image_allow: Vec<String>,
    tokens_file: Option<PathBuf>,
    tokens: RwLock<Arc<TokenSet>>,
    /// Bumped at each reload of the tokens file.
    generation: watch::Sender<u64>,
    host: HostAccess,
    /// The value of [`CREATED_BY`] on the containers the agent creates.
    created_by: String,
}

/// The label naming the agent on every container it creates.
pub const CREATED_BY: &str = "docker-agent.created-by";

impl Policy {
    pub fn new(config: &PolicyConfig, own: Option<String>) -> Policy {
        if let Some(id) = &own {
            log::info!(container = id.as_str(); "running in a container: the agent refuses to stop or restart it");
        }
        Policy {
            read_only: config.read_only,
            mcp_key: config.mcp_key,
            exec_enabled: config.exec_enabled,
            login_role: config.login_role,
            mcp_role: config.mcp_role,
            scope: config.scope.clone(),
            own,
            image_allow: config.image_allow.clone(),
            tokens_file: config.tokens_file.clone(),
            tokens: RwLock::new(Arc::new(config.tokens.clone())),
            generation: watch::channel(0).0,
            host: config.host.clone(),
            created_by: config.created_by.clone(),
        }
    }

    /// The one place every decision is made: may `caller` do `op` (to
    /// `container`, when it names one)? Scope first, so an out-of-scope
    /// container is refused as missing whatever else holds; then exec
    /// while it is disabled, the read-only mode and the credential's, the
    /// role, the agent's own container, and last a confirmation the
    /// credential needs and the request does not carry.
    pub fn decide<'a>(
        &self,
        caller: &'a Caller,
        op: Op,
        container: Option<Facts<'a>>,
    ) -> Decision<'a> {
        let refusal = if container.is_some_and(|c| !self.sees(c)) {
            Some(Refusal::OutOfScope)
        } else if op.runs_commands && !self.exec_enabled {
            Some(Refusal::ExecDisabled)
        } else if op.mutates && self.read_only {
            Some(Refusal::ReadOnly)
        } else if op.mutates && caller.restrictions.read_only {
            Some(Refusal::CredentialReadOnly)
        } else if caller.role < op.needs {
            Some(Refusal::Role {
                has: caller.role,
                needs: op.needs,
            })
        } else if op.interrupts && container.is_some_and(|c| self.is_own(c.id)) {
            Some(Refusal::OwnContainer)
        } else if caller.restrictions.confirm.covers(op) && !caller.confirmed() {
            Some(Refusal::Unconfirmed)
        } else {
            None
        };
        let marks = match (&caller.credential, refusal) {
            (Credential::Token(hash), Some(Refusal::CredentialReadOnly | Refusal::Unconfirmed)) => {
                self.tokens().holding(hash).map(|e| e.marks.spelled())
            }
            _ => None,
        };
        Decision {
            caller,
            op,
            container,
            refusal,
            marks,
        }
    }

    /// Whether `IMAGE_ALLOW` allows the image `reference` to be pulled;
    /// else the refusal (403 naming the image and the setting).
    pub fn check_image(&self, reference: &str) -> Result<(), Error> {
        self.check_image_named(reference, &[reference])
    }

    /// Whether `IMAGE_ALLOW` allows a local image the caller named
    /// `reference`, which Docker resolves to an image known by `names`
    /// (its tags and digests): judged by what Docker will run, so an image
    /// id or id prefix is allowed only when the image it means is.
    pub fn check_image_named(&self, reference: &str, names: &[&str]) -> Result<(), Error> {
        if self.image_allow.is_empty()
            || names.iter().any(|n| images::allowed(&self.image_allow, n))
        {
            return Ok(());
        }
        Err(Error::Denied(format!(
            "IMAGE_ALLOW does not allow the image '{}'",
            crate::error::clip(reference, 128)
        )))
    }

    /// Whether a container is in scope.
    pub fn sees(&self, c: Facts<'_>) -> bool {
        self.scope.admits(c.name, c.labels)
    }

    /// Whether any scope rule is set.
    pub fn scoped(&self) -> bool {
        self.scope.active()
    }

    /// Where a Docker event stands with the scope.
    pub fn sight(&self, event: &serde_json::Value) -> Sight {
        self.scope.sight(event)
    }

    /// Refuses what a container would take from the host (403 naming the
    /// field), unless `ALLOW_HOST_ACCESS` grants it; `view` is the allowed
    /// directories as the agent sees them.
    pub fn vet_host(&self, requests: &[HostRequest], view: &View) -> Result<(), Error> {
        self.host.vet(requests, view)
    }

    /// The allowed directories as the agent sees them (see [`HostAccess::view`]).
    pub fn host_view(&self, own_binds: Option<&[PathBuf]>) -> View {
        self.host.view(own_binds)
    }

    /// Whether host paths are judged at all (not with `ALLOW_HOST_ACCESS`).
    pub fn judges_host_paths(&self) -> bool {
        self.host.judges_paths()
    }

    /// Whether a host path of a container made elsewhere is the agent's to
    /// judge before it starts: one under an allowed directory (the ones
    /// callers can reach through their containers) or any path of a
    /// container the agent created.
    pub fn judges_path_of(&self, labels: &dyn Labels, path: &str) -> bool {
        self.created_here(labels) || self.host.under_allowed(path)
    }

    /// Whether the agent created what carries `labels`.
    fn created_here(&self, labels: &dyn Labels) -> bool {
        labels.label(CREATED_BY) == Some(self.created_by.as_str())
    }

    /// Whether a volume no container uses may be mounted: any, without a
    /// scope; with one, only a volume the agent made for its scope (its
    /// own label and the scope label, and not `EXCLUDE_LABEL`), since an
    /// unused volume may hold the data of containers outside the scope.
    pub fn claims_unused_volume(&self, labels: &dyn Labels) -> bool {
        !self.scope.active() || (self.created_here(labels) && self.scope.admits_labels(labels))
    }

    /// The labels of a volume the agent makes for a container it creates.
    pub fn new_volume_labels(&self) -> std::collections::BTreeMap<String, String> {
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(CREATED_BY.to_string(), self.created_by.clone());
        labels.extend(self.scope.label.as_ref().map(|l| l.pair()));
        labels
    }

    /// A forced image removal can take an image from under a stopped
    /// container, one out of scope included: refused while a scope is set.
    pub fn force_image_removal(&self) -> Result<(), Error> {
        if self.scoped() {
            return Err(Error::Denied(
                "force=true is refused while a container scope is set: it could remove an \
                 image from under a container outside the scope"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The labels the agent puts on a container it creates — its own name
    /// and the scope label — merged into `labels`; refused when the
    /// container would not be in scope (`EXCLUDE_LABEL` given, a name
    /// outside `SCOPE_NAMES`), or a label the agent sets is given another value.
    pub fn label_new(
        &self,
        name: Option<&str>,
        labels: &mut std::collections::BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let mut own = vec![(CREATED_BY.to_string(), self.created_by.clone())];
        own.extend(self.scope.label.as_ref().map(|l| l.pair()));
        for (key, value) in own {
            match labels.insert(key.clone(), value.clone()) {
                Some(given) if given != value => {
                    return Err(Error::Denied(format!(
                        "The label '{key}' is set by the agent (to '{value}'); leave it out"
                    )));
                }
                _ => {}
            }
        }
        if let Some(rule) = self.scope.exclude.as_ref().filter(|r| r.matches(labels)) {
            return Err(Error::Denied(format!(
                "The label '{rule}' is EXCLUDE_LABEL: the agent would not see the container; leave it out"
            )));
        }
        if !self.scope.admits(name.unwrap_or(""), labels) {
            return Err(Error::Denied(format!(
                "The container would be outside the agent's scope: its name must match SCOPE_NAMES ({})",
                self.scope.names.join(", ")
            )));
        }
        Ok(())
    }

    /// The container the agent runs in, if it found one.
    pub fn own_container(&self) -> Option<&str> {
        self.own.as_deref()
    }

    fn is_own(&self, id: &str) -> bool {
        self.own.as_deref().is_some_and(|own| id.starts_with(own))
    }

    /// The modes, as `/health` reports them: `(read_only, mcp_read_only)`.
    pub fn modes(&self) -> (bool, bool) {
        (self.read_only, self.mcp_key.read_only)
    }

    /// The scope rules, as `/health` reports them.
    pub fn scope_report(&self) -> ScopeReport {
        ScopeReport {
            label: self.scope.label.as_ref().map(ToString::to_string),
            names: self.scope.names.clone(),
            exclude_label: self.scope.exclude.as_ref().map(ToString::to_string),
        }
    }

    /// The roles in force, as `/health` reports them (token names, never hashes).
    pub fn roles_report(&self) -> RolesReport {
        let mut tokens = std::collections::BTreeMap::new();
        for e in self.tokens().entries() {
            tokens.insert(e.name.clone(), e.role.name());
        }
        RolesReport {
            login: self.login_role.name(),
            mcp: self.mcp_role.name(),
            tokens,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PolicyConfig {
    pub tokens_file: Option<PathBuf>,
    /// The tokens the file held at start.
    pub tokens: TokenSet,
    pub login_role: Role,
    pub mcp_role: Role,
    pub scope: Scope,
    pub read_only: bool,
    /// What the MCP key (and tokens marked `mcp`) are kept from.
    pub mcp_key: Restrictions,
    /// `IMAGE_ALLOW` globs (see [`crate::policy::images`]); empty allows all.
    pub image_allow: Vec<String>,
    pub host: HostAccess,
    /// `APP_NAME`: the agent's name on the containers it creates.
    pub created_by: String,
    pub exec_enabled: bool,
}

#[cfg(test)]
mod tests;
