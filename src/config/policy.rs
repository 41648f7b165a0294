//! Access settings: scoped tokens (`API_TOKENS_FILE`, read here at start so
//! a bad line stops the start), the roles of the login and the MCP key
//! (`API_ROLE`, `MCP_ROLE`), container scope (`SCOPE_LABEL`, `SCOPE_NAMES`,
//! `EXCLUDE_LABEL`), the read-only mode (`READ_ONLY`), what the MCP key is
//! kept from (`MCP_READ_ONLY`, `MCP_CONFIRM`, `MCP_REDACT_ENV`),
//! the images that may be pulled or created (`IMAGE_ALLOW`), what created
//! containers may take from the host (`ALLOW_HOST_ACCESS`,
//! `ALLOW_BIND_MOUNTS_FROM`) and whether commands may be run in containers
//! (`EXEC_ENABLED`, off by default).
//! What they mean is [`crate::policy`]'s business.

use super::{ConfigError, Vars};
use crate::policy::PolicyConfig;
use crate::policy::scope::{LabelRule, check_glob};
use crate::policy::{Confirm, HostAccess, Restrictions, Role, Scope, TokenSet, host, images};
use std::path::PathBuf;

pub fn section(vars: &Vars) -> Result<PolicyConfig, ConfigError> {
    let tokens_file = vars.get("API_TOKENS_FILE").map(PathBuf::from);
    let tokens = match &tokens_file {
        Some(path) => TokenSet::load(path).map_err(|e| ConfigError::new("API_TOKENS_FILE", e))?,
        None => TokenSet::default(),
    };
    Ok(PolicyConfig {
        tokens_file,
        tokens,
        login_role: role(vars, "API_ROLE")?,
        mcp_role: role(vars, "MCP_ROLE")?,
        scope: scope(vars)?,
        read_only: vars.bool("READ_ONLY", false)?,
        mcp_key: Restrictions {
            read_only: vars.bool("MCP_READ_ONLY", false)?,
            confirm: confirm(vars)?,
            redact_env: vars.bool("MCP_REDACT_ENV", true)?,
        },
        image_allow: image_allow(vars)?,
        host: host_access(vars)?,
        created_by: vars.string("APP_NAME", "Docker Agent"),
        exec_enabled: vars.bool("EXEC_ENABLED", false)?,
    })
}

fn host_access(vars: &Vars) -> Result<HostAccess, ConfigError> {
    let bind_prefixes = vars
        .list("ALLOW_BIND_MOUNTS_FROM", &[])?
        .iter()
        .map(|p| {
            host::normalise(p).ok_or_else(|| {
                ConfigError::new(
                    "ALLOW_BIND_MOUNTS_FROM",
                    format!("{p:?} is not an absolute path without '..'"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(HostAccess {
        allowed: vars.bool("ALLOW_HOST_ACCESS", false)?,
        bind_prefixes,
    })
}

fn confirm(vars: &Vars) -> Result<Confirm, ConfigError> {
    let value = vars.string("MCP_CONFIRM", "destructive");
    Confirm::parse(value.trim()).ok_or_else(|| {
        ConfigError::new(
            "MCP_CONFIRM",
            format!("{value:?} is not a mode; use destructive, actions or off"),
        )
    })
}

fn image_allow(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let globs = vars.list("IMAGE_ALLOW", &[])?;
    match globs.iter().find_map(|g| images::check_glob(g).err()) {
        Some(e) => Err(ConfigError::new("IMAGE_ALLOW", e)),
        None => Ok(globs),
    }
}

fn role(vars: &Vars, var: &'static str) -> Result<Role, ConfigError> {
    let Some(value) = vars.get(var) else {
        return Ok(Role::Admin);
    };
    Role::parse(value.trim()).ok_or_else(|| {
        ConfigError::new(
            var,
            format!("{value:?} is not a role; use read, operate or admin"),
        )
    })
}

fn label(vars: &Vars, var: &'static str) -> Result<Option<LabelRule>, ConfigError> {
    vars.get(var)
        .map(|v| LabelRule::parse(v).map_err(|e| ConfigError::new(var, e)))
        .transpose()
}

fn scope(vars: &Vars) -> Result<Scope, ConfigError> {
    let names = vars.list("SCOPE_NAMES", &[])?;
    if let Some(e) = names.iter().find_map(|n| check_glob(n).err()) {
        return Err(ConfigError::new("SCOPE_NAMES", e));
    }
    Ok(Scope {
        label: label(vars, "SCOPE_LABEL")?,
        names,
        exclude: label(vars, "EXCLUDE_LABEL")?,
    })
}

#[cfg(test)]
mod tests;
